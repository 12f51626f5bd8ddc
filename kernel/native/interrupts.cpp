#include "interrupts.hpp"

#include <csignal>
#include <pthread.h>

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

    interrupts_deferred::interrupts_deferred()
    {
        block_interrupts_in_new_threads();
    }

    interrupts_deferred::~interrupts_deferred()
    {
        accept_interrupts_on_this_thread();
    }
}
