#include "accel/http_client.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <deque>
#include <thread>
#include <unordered_map>

#include "accel/config.hpp"
#include "accel/thread.hpp"

#if !defined(ACCEL_SINGLE_THREADED) && !defined(ACCEL_NO_CURL)
#include "curl_library.hpp"
#endif

namespace accel {

// ---- BatchFetch (backend-agnostic) ----------------------------------------

std::shared_ptr<BatchFetch> BatchFetch::start(FetchBackend& backend, std::vector<HttpRequest> reqs,
                                              std::size_t concurrency,
                                              std::function<void(std::vector<HttpResult>)> done) {
    auto b = std::make_shared<BatchFetch>(Key{});
    b->backend_ = &backend;
    b->reqs_ = std::move(reqs);
    b->results_.resize(b->reqs_.size());
    b->ids_.assign(b->reqs_.size(), 0);
    b->concurrency_ = std::max<std::size_t>(1, concurrency);
    b->done_ = std::move(done);
    if (b->reqs_.empty()) {
        auto cb = std::move(b->done_);
        b->completed_ = true;
        cb({});
        return b;
    }
    b->launch_more();
    return b;
}

void BatchFetch::launch_more() {
    for (;;) {
        std::size_t index;
        {
            Lock lk(mutex_);
            if (cancelled_ || next_ >= reqs_.size() || in_flight_ >= concurrency_) return;
            index = next_++;
            ++in_flight_;
        }
        std::weak_ptr<BatchFetch> weak = shared_from_this();
        auto id = backend_->start(std::move(reqs_[index]), [weak, index](HttpResult r) {
            if (auto self = weak.lock()) self->on_done(index, std::move(r));
        });
        Lock lk(mutex_);
        if (!results_[index].response.status && !results_[index].error) ids_[index] = id;
    }
}

void BatchFetch::on_done(std::size_t index, HttpResult r) {
    std::function<void(std::vector<HttpResult>)> cb;
    {
        Lock lk(mutex_);
        results_[index] = std::move(r);
        ids_[index] = 0;
        --in_flight_;
        ++finished_;
        if (finished_ == reqs_.size() && !completed_ && !cancelled_) {
            completed_ = true;
            cb = std::move(done_);
        }
    }
    if (cb) {
        cb(std::move(results_));
        return;
    }
    launch_more();
}

void BatchFetch::cancel() {
    std::vector<FetchBackend::RequestId> ids;
    {
        Lock lk(mutex_);
        if (cancelled_ || completed_) return;
        cancelled_ = true;
        for (auto id : ids_)
            if (id) ids.push_back(id);
        done_ = nullptr;
    }
    for (auto id : ids) backend_->cancel(id);
}

// ---- libcurl multi backend ------------------------------------------------

#if !defined(ACCEL_SINGLE_THREADED) && !defined(ACCEL_NO_CURL)
namespace {

// Only called once make_curl_backend() has loaded the library.
const CurlLibrary& curl() { return *curl_library(); }

struct Transfer {
    FetchBackend::RequestId id = 0;
    HttpRequest req;
    HttpResult result;
    FetchBackend::Callback cb;
    CURL* easy = nullptr;
    curl_slist* headers = nullptr;
    char errbuf[CURL_ERROR_SIZE] = {0};
    Error failure;  // exception caught in a curl callback (e.g. out of memory)

    ~Transfer() {
        if (easy) curl().easy_cleanup(easy);
        if (headers) curl().slist_free_all(headers);
    }
};

// C callbacks: an exception must not unwind through libcurl. Returning a
// short count makes curl abort the transfer (CURLE_WRITE_ERROR).
size_t on_body(char* ptr, size_t size, size_t nmemb, void* user) {
    auto* t = static_cast<Transfer*>(user);
    try {
        t->result.response.body.append(ptr, size * nmemb);
    } catch (...) {
        t->failure = Error::from_current_exception();
        return 0;
    }
    return size * nmemb;
}

size_t on_header_impl(char* ptr, size_t size, size_t nmemb, Transfer* t);

size_t on_header(char* ptr, size_t size, size_t nmemb, void* user) {
    auto* t = static_cast<Transfer*>(user);
    try {
        return on_header_impl(ptr, size, nmemb, t);
    } catch (...) {
        t->failure = Error::from_current_exception();
        return 0;
    }
}

size_t on_header_impl(char* ptr, size_t size, size_t nmemb, Transfer* t) {
    std::string line(ptr, size * nmemb);
    if (line.rfind("HTTP/", 0) == 0) {
        t->result.response.headers.clear();  // new response (redirect / 100-continue)
        return size * nmemb;
    }
    auto colon = line.find(':');
    if (colon == std::string::npos) return size * nmemb;
    auto trim = [](std::string s) {
        auto b = s.find_first_not_of(" \t\r\n");
        auto e = s.find_last_not_of(" \t\r\n");
        return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
    };
    t->result.response.headers.emplace_back(trim(line.substr(0, colon)), trim(line.substr(colon + 1)));
    return size * nmemb;
}

class CurlBackend final : public FetchBackend {
public:
    CurlBackend() {
        multi_ = curl().multi_init();
        curl().multi_setopt(multi_, CURLMOPT_MAX_HOST_CONNECTIONS, 0L);
        thread_ = start_thread([this] { io_loop(); });
    }
    ~CurlBackend() override {
        shutdown();
        curl().multi_cleanup(multi_);
    }

    RequestId start(HttpRequest req, Callback cb) override {
        if (Error bad = validate_request(req)) {  // also guards C++ callers of the backend
            HttpResult r;
            r.error = std::move(bad);
            cb(std::move(r));
            return 0;
        }
        auto t = std::make_unique<Transfer>();
        t->req = std::move(req);
        t->cb = std::move(cb);
        RequestId id;
        {
            Lock lk(mutex_);
            if (stopping_) {
                lk.unlock();
                HttpResult r;
                r.error = Error::make(ErrorKind::Runtime, "accel runtime is shut down");
                t->cb(std::move(r));
                return 0;
            }
            id = t->id = next_id_++;
            incoming_.push_back(std::move(t));
        }
        curl().multi_wakeup(multi_);
        return id;
    }

    bool cancel(RequestId id) override {
        {
            Lock lk(mutex_);
            auto it = std::find_if(incoming_.begin(), incoming_.end(),
                                   [&](const auto& t) { return t->id == id; });
            if (it != incoming_.end()) {
                incoming_.erase(it);
                return true;
            }
            if (!active_ids_.count(id)) return false;
            cancels_.push_back(id);
        }
        curl().multi_wakeup(multi_);
        return true;
    }

    void shutdown() override {
        {
            Lock lk(mutex_);
            if (stopping_) return;
            stopping_ = true;
        }
        curl().multi_wakeup(multi_);
        if (thread_.joinable()) thread_.join();
    }

private:
    void add_transfer(std::unique_ptr<Transfer> t) {
        CURL* e = curl().easy_init();
        t->easy = e;
        curl().easy_setopt(e, CURLOPT_URL, t->req.url.c_str());
        curl().easy_setopt(e, CURLOPT_PRIVATE, t.get());
        curl().easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
        curl().easy_setopt(e, CURLOPT_WRITEDATA, t.get());
        curl().easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
        curl().easy_setopt(e, CURLOPT_HEADERDATA, t.get());
        curl().easy_setopt(e, CURLOPT_ERRORBUFFER, t->errbuf);
        curl().easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
        curl().easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
        // http(s) only, also for redirects (a redirect to file:// is refused).
        curl().easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
        curl().easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
        curl().easy_setopt(e, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1);
        curl().easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
        // inf/huge = no limit; otherwise clamp to what a long holds.
        if (t->req.timeout > 0 && t->req.timeout < 1e9)
            curl().easy_setopt(e, CURLOPT_TIMEOUT_MS, static_cast<long>(t->req.timeout * 1000 + 0.5));
        std::string method = t->req.method;
        std::transform(method.begin(), method.end(), method.begin(), ::toupper);
        if (method == "HEAD") {
            curl().easy_setopt(e, CURLOPT_NOBODY, 1L);
        } else if (method != "GET" || !t->req.body.empty()) {
            curl().easy_setopt(e, CURLOPT_CUSTOMREQUEST, method.c_str());
        }
        if (!t->req.body.empty() || method == "POST" || method == "PUT" || method == "PATCH") {
            curl().easy_setopt(e, CURLOPT_POSTFIELDS, t->req.body.data());
            curl().easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(t->req.body.size()));
        }
        for (auto& [k, v] : t->req.headers) t->headers = curl().slist_append(t->headers, (k + ": " + v).c_str());
        if (t->headers) curl().easy_setopt(e, CURLOPT_HTTPHEADER, t->headers);
        curl().multi_add_handle(multi_, e);
        active_.emplace(t->id, std::move(t));
    }

    void finish(Transfer* t, CURLcode code) {
        auto& r = t->result;
        if (t->failure) {
            r.error = std::move(t->failure);
            r.response = {};
        } else if (code == CURLE_OK) {
            curl().easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &r.response.status);
            char* eff = nullptr;
            curl().easy_getinfo(t->easy, CURLINFO_EFFECTIVE_URL, &eff);
            r.response.url = eff ? eff : t->req.url;
        } else {
            long os_errno = 0;
            curl().easy_getinfo(t->easy, CURLINFO_OS_ERRNO, &os_errno);
            std::string detail = t->errbuf[0] ? t->errbuf : curl().easy_strerror(code);
            std::string msg = "fetch " + t->req.url + " failed: " + detail;
            if (code == CURLE_OPERATION_TIMEDOUT) {
                r.error = Error::make(ErrorKind::Timeout, "fetch " + t->req.url + " timed out: " + detail);
            } else if (code == CURLE_COULDNT_CONNECT) {
                r.error = Error::make(ErrorKind::Connection, msg, os_errno ? int(os_errno) : ECONNREFUSED);
            } else if (code == CURLE_UNSUPPORTED_PROTOCOL || code == CURLE_URL_MALFORMAT) {
                r.error = Error::make(ErrorKind::InvalidArgument, msg);
            } else {
                r.error = Error::make(ErrorKind::Connection, msg, int(os_errno));
            }
            r.response = {};
        }
    }

    void io_loop() {
        for (;;) {
            std::deque<std::unique_ptr<Transfer>> incoming;
            std::vector<RequestId> cancels;
            {
                Lock lk(mutex_);
                if (stopping_) break;
                incoming.swap(incoming_);
                cancels.swap(cancels_);
                for (auto& t : incoming) active_ids_.insert({t->id, true});
            }
            for (auto& t : incoming) add_transfer(std::move(t));
            for (auto id : cancels) {
                auto it = active_.find(id);
                if (it == active_.end()) continue;
                curl().multi_remove_handle(multi_, it->second->easy);
                active_.erase(it);  // aborted: callback never runs
                Lock lk(mutex_);
                active_ids_.erase(id);
            }
            int running = 0;
            curl().multi_perform(multi_, &running);
            int left = 0;
            while (CURLMsg* m = curl().multi_info_read(multi_, &left)) {
                if (m->msg != CURLMSG_DONE) continue;
                Transfer* raw = nullptr;
                curl().easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &raw);
                CURLcode code = m->data.result;
                curl().multi_remove_handle(multi_, m->easy_handle);
                auto it = active_.find(raw->id);
                if (it == active_.end()) continue;
                std::unique_ptr<Transfer> t = std::move(it->second);
                active_.erase(it);
                {
                    Lock lk(mutex_);
                    active_ids_.erase(t->id);
                }
                // Never let an exception end the I/O thread (std::terminate).
                try {
                    finish(t.get(), code);
                } catch (...) {
                    t->result.response = {};
                    t->result.error = Error::from_current_exception();
                }
                try {
                    t->cb(std::move(t->result));
                } catch (...) {
                }
            }
            curl().multi_poll(multi_, nullptr, 0, 1000, nullptr);
        }
        // Shutdown: abort everything still in flight without callbacks.
        for (auto& [id, t] : active_) curl().multi_remove_handle(multi_, t->easy);
        active_.clear();
        Lock lk(mutex_);
        incoming_.clear();
        active_ids_.clear();
    }

    CURLM* multi_ = nullptr;
    std::thread thread_;
    Mutex mutex_;
    bool stopping_ = false;
    RequestId next_id_ = 1;
    std::deque<std::unique_ptr<Transfer>> incoming_;
    std::vector<RequestId> cancels_;
    std::unordered_map<RequestId, bool> active_ids_;              // guarded by mutex_
    std::unordered_map<RequestId, std::unique_ptr<Transfer>> active_;  // I/O thread only
};

}  // namespace

std::unique_ptr<FetchBackend> make_curl_backend() {
    // Without libcurl there is no native fetch, as in a build without threads.
    if (!curl_library()) return nullptr;
    return std::make_unique<CurlBackend>();
}
#else
std::unique_ptr<FetchBackend> make_curl_backend() { return nullptr; }
#endif

}  // namespace accel
