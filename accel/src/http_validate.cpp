// Request validation shared by every FetchBackend (curl, browser, tests).
#include <cctype>
#include <cstring>

#include "accel/http_client.hpp"

namespace accel {

namespace {

bool is_tchar(unsigned char c) {  // RFC 9110 token characters
    return std::isalnum(c) || std::strchr("!#$%&'*+-.^_`|~", c) != nullptr;
}

bool is_token(const std::string& s) {
    if (s.empty()) return false;
    for (unsigned char c : s)
        if (c == 0 || !is_tchar(c)) return false;
    return true;
}

bool has_control_break(const std::string& s) {
    for (char c : s)
        if (c == '\r' || c == '\n' || c == '\0') return true;
    return false;
}

bool starts_with_nocase(const std::string& s, const char* prefix) {
    std::size_t n = std::strlen(prefix);
    if (s.size() < n) return false;
    for (std::size_t i = 0; i < n; ++i)
        if (std::tolower(static_cast<unsigned char>(s[i])) != prefix[i]) return false;
    return true;
}

// True if `url` starts with an RFC 3986 scheme ("name:").
bool has_scheme(const std::string& url) {
    if (url.empty() || !std::isalpha(static_cast<unsigned char>(url[0]))) return false;
    for (unsigned char c : url) {
        if (c == ':') return true;
        if (!std::isalnum(c) && c != '+' && c != '-' && c != '.') return false;
    }
    return false;
}

Error invalid(std::string msg) { return Error::make(ErrorKind::InvalidArgument, std::move(msg)); }

}  // namespace

Error validate_request(const HttpRequest& req, bool allow_relative) {
    if (has_control_break(req.url)) return invalid("fetch: the URL must not contain CR, LF or NUL characters");
    const bool relative = allow_relative && !req.url.empty() && !has_scheme(req.url);
    if (!relative && !starts_with_nocase(req.url, "http://") && !starts_with_nocase(req.url, "https://")) {
        auto colon = req.url.find(':');
        std::string scheme = colon == std::string::npos ? std::string() : req.url.substr(0, colon);
        return invalid(scheme.empty() || scheme.size() > 32
                           ? "fetch: the URL must start with http:// or https:// (got '" + req.url.substr(0, 64) + "')"
                           : "fetch: unsupported URL scheme '" + scheme + "' (only http and https are allowed)");
    }
    if (!is_token(req.method))
        return invalid("fetch: invalid HTTP method (a token such as GET or POST, without spaces, CR or LF)");
    for (auto& [name, value] : req.headers) {
        if (!is_token(name))
            return invalid("fetch: invalid header name '" + name.substr(0, 64) +
                           "' (token characters only: no spaces, ':', CR or LF)");
        if (has_control_break(value))
            return invalid("fetch: the value of header '" + name + "' must not contain CR, LF or NUL");
    }
    return {};
}

}  // namespace accel
