#include "interrupts.hpp"

#include <csignal>
#include <pthread.h>

#include <pybind11/pybind11.h>

namespace xaccel
{
    namespace
    {
        sigset_t interrupt_set()
        {
            sigset_t set;
            sigemptyset(&set);
            sigaddset(&set, SIGINT);
            return set;
        }
    }

    void block_interrupts_in_new_threads()
    {
        sigset_t set = interrupt_set();
        pthread_sigmask(SIG_BLOCK, &set, nullptr);
    }

    void accept_interrupts_on_this_thread()
    {
        sigset_t set = interrupt_set();
        pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
    }

    void install_interrupt_handler()
    {
        pybind11::module_::import("xaccel_kernel.interrupts").attr("install")();
    }
}
