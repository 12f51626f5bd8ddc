// HTTP/1.1 client seam. The threaded build drives libcurl's multi interface
// from one I/O thread; other targets (the browser) plug in their own
// FetchBackend (e.g. the Fetch API) through set_fetch_backend().
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "accel/config.hpp"
#include "accel/error.hpp"

namespace accel {

struct HttpRequest {
    std::string url;
    std::string method = "GET";
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    double timeout = 0.0;  // seconds, 0 = none
};

struct HttpResponse {
    long status = 0;
    std::string url;  // effective URL after redirects
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
};

struct HttpResult {
    HttpResponse response;
    Error error;
};

// Checks a request before any backend sees it: only http:// and https://
// URLs (no file://, ftp://...), a method made of RFC 9110 token characters,
// header names that are tokens, and no CR, LF or NUL in the URL or in header
// values (header injection). Returns ErrorKind::InvalidArgument on failure.
// `allow_relative`: a URL without a scheme is accepted, for a backend that
// resolves it against an http(s) base (the browser's fetch, against the page).
Error validate_request(const HttpRequest& req, bool allow_relative = false);

class FetchBackend {
public:
    using RequestId = std::uint64_t;
    using Callback = std::function<void(HttpResult)>;
    virtual ~FetchBackend() = default;
    // cb runs exactly once, on a backend thread (or inline), unless cancelled.
    virtual RequestId start(HttpRequest req, Callback cb) = 0;
    // True if the transfer was aborted before its callback ran.
    virtual bool cancel(RequestId id) = 0;
    virtual void shutdown() {}
};

// libcurl multi-interface backend; nullptr when built without threads.
std::unique_ptr<FetchBackend> make_curl_backend();

// Runs many requests with at most `concurrency` in flight; done() gets one
// result per request, in order, from a backend thread.
class BatchFetch : public std::enable_shared_from_this<BatchFetch> {
public:
    static std::shared_ptr<BatchFetch> start(FetchBackend& backend, std::vector<HttpRequest> reqs,
                                             std::size_t concurrency,
                                             std::function<void(std::vector<HttpResult>)> done);
    void cancel();

    struct Key {  // passkey: only start() can construct, via make_shared
        explicit Key() = default;
    };
    explicit BatchFetch(Key) {}

private:
    void launch_more();
    void on_done(std::size_t index, HttpResult r);

    FetchBackend* backend_ = nullptr;
    std::vector<HttpRequest> reqs_;
    std::vector<HttpResult> results_;
    std::vector<FetchBackend::RequestId> ids_;
    std::size_t next_ = 0, finished_ = 0, in_flight_ = 0, concurrency_ = 1;
    bool cancelled_ = false, completed_ = false;
    std::function<void(std::vector<HttpResult>)> done_;
    Mutex mutex_;
};

}  // namespace accel
