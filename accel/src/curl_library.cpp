#include "curl_library.hpp"

#include <mutex>

#include <dlfcn.h>

namespace accel {

namespace {

// The shared object's name: libcurl's ABI has been version 4 since 2006.
constexpr const char* kSonames[] = {"libcurl.so.4", "libcurl.so"};

struct Loaded {
    CurlLibrary lib;
    bool ok = false;
    std::string error;
};

template <typename F>
bool bind(void* handle, const char* name, F& target, std::string& error) {
    void* symbol = dlsym(handle, name);
    if (!symbol) {
        error = std::string("libcurl has no ") + name;
        return false;
    }
    target = reinterpret_cast<F>(symbol);
    return true;
}

Loaded load() {
    Loaded out;
    void* handle = nullptr;
    for (const char* soname : kSonames) {
        // Never unloaded: its I/O thread and atexit handlers may outlive any owner.
        handle = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
        if (handle) break;
    }
    if (!handle) {
        const char* why = dlerror();
        out.error = std::string("cannot load libcurl: ") + (why ? why : "not found");
        return out;
    }
    CurlLibrary& l = out.lib;
    std::string& e = out.error;
    out.ok = bind(handle, "curl_global_init", l.global_init, e) && bind(handle, "curl_easy_init", l.easy_init, e) &&
             bind(handle, "curl_easy_cleanup", l.easy_cleanup, e) &&
             bind(handle, "curl_easy_setopt", l.easy_setopt, e) &&
             bind(handle, "curl_easy_getinfo", l.easy_getinfo, e) &&
             bind(handle, "curl_easy_strerror", l.easy_strerror, e) &&
             bind(handle, "curl_slist_append", l.slist_append, e) &&
             bind(handle, "curl_slist_free_all", l.slist_free_all, e) &&
             bind(handle, "curl_multi_init", l.multi_init, e) &&
             bind(handle, "curl_multi_cleanup", l.multi_cleanup, e) &&
             bind(handle, "curl_multi_setopt", l.multi_setopt, e) &&
             bind(handle, "curl_multi_add_handle", l.multi_add_handle, e) &&
             bind(handle, "curl_multi_remove_handle", l.multi_remove_handle, e) &&
             bind(handle, "curl_multi_perform", l.multi_perform, e) &&
             bind(handle, "curl_multi_poll", l.multi_poll, e) &&
             bind(handle, "curl_multi_wakeup", l.multi_wakeup, e) &&
             bind(handle, "curl_multi_info_read", l.multi_info_read, e);
    if (out.ok && l.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        out.ok = false;
        out.error = "curl_global_init failed";
    }
    return out;
}

}  // namespace

const CurlLibrary* curl_library(std::string* error) {
    static std::once_flag once;
    static Loaded loaded;
    std::call_once(once, [] { loaded = load(); });
    if (!loaded.ok) {
        if (error) *error = loaded.error;
        return nullptr;
    }
    return &loaded.lib;
}

}  // namespace accel
