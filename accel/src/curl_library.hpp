// libcurl, loaded on first use (dlopen) instead of linked: a process that
// never fetches (most kernels) does not load it and its ~20 dependencies
// (GnuTLS, Kerberos, LDAP, SSH...), which cost about 6 MB of RSS and 8 ms of
// start-up in every kernel process.
#ifndef ACCEL_SRC_CURL_LIBRARY_HPP
#define ACCEL_SRC_CURL_LIBRARY_HPP

#include <string>

#include <curl/curl.h>

namespace accel {

struct CurlLibrary {
    decltype(&::curl_global_init) global_init = nullptr;
    decltype(&::curl_easy_init) easy_init = nullptr;
    decltype(&::curl_easy_cleanup) easy_cleanup = nullptr;
    decltype(&::curl_easy_setopt) easy_setopt = nullptr;
    decltype(&::curl_easy_getinfo) easy_getinfo = nullptr;
    decltype(&::curl_easy_strerror) easy_strerror = nullptr;
    decltype(&::curl_slist_append) slist_append = nullptr;
    decltype(&::curl_slist_free_all) slist_free_all = nullptr;
    decltype(&::curl_multi_init) multi_init = nullptr;
    decltype(&::curl_multi_cleanup) multi_cleanup = nullptr;
    decltype(&::curl_multi_setopt) multi_setopt = nullptr;
    decltype(&::curl_multi_add_handle) multi_add_handle = nullptr;
    decltype(&::curl_multi_remove_handle) multi_remove_handle = nullptr;
    decltype(&::curl_multi_perform) multi_perform = nullptr;
    decltype(&::curl_multi_poll) multi_poll = nullptr;
    decltype(&::curl_multi_wakeup) multi_wakeup = nullptr;
    decltype(&::curl_multi_info_read) multi_info_read = nullptr;
};

// The library, loaded (and curl_global_init run) once, thread-safe; nullptr
// if it cannot be loaded, with the reason in `error` when given.
const CurlLibrary* curl_library(std::string* error = nullptr);

}  // namespace accel

#endif
