// Shell requests that the kernel answers while a cell is suspended in an
// `await` (natively: while the cell drives the event loop; in the browser:
// while its reply is deferred). Comm messages must not wait for the cell, or
// a cell that awaits a widget's change would wait for itself (ipykernel issue
// 646); the others only read the kernel's state, as ipykernel 7.4 answers
// them meanwhile too. execute_request and everything else keep their order
// behind the running cell.
#ifndef XACCEL_CORE_BESIDE_CELL_HPP
#define XACCEL_CORE_BESIDE_CELL_HPP

#include <string>

namespace xaccel
{
    inline bool runs_beside_cell(const std::string& msg_type)
    {
        for (const char* type : {"comm_open", "comm_msg", "comm_close", "comm_info_request", "kernel_info_request",
                                 "connect_request",
                                 "complete_request", "inspect_request", "is_complete_request", "history_request"})
        {
            if (msg_type == type)
            {
                return true;
            }
        }
        return false;
    }
}

#endif
