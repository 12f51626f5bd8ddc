#include "accel/compress.hpp"

#include <climits>
#include <iterator>
#include <cstring>

#include <zlib.h>

namespace accel {

namespace {
struct Deflater {
    z_stream s{};
    bool ok = false;
    ~Deflater() {
        if (ok) deflateEnd(&s);
    }
};
struct Inflater {
    z_stream s{};
    bool ok = false;
    ~Inflater() {
        if (ok) inflateEnd(&s);
    }
};
// Output handed to zlib per call (levels 1-9), so cancellation is checked
// often; their output does not depend on how the output space is split.
constexpr std::size_t kStep = 1 << 20;
Error cancelled_error() { return Error::make(ErrorKind::Cancelled, "zlib operation cancelled"); }

Error zerr(int code, const char* what, const z_stream& s) {
    std::string msg = std::string("Error ") + std::to_string(code) + " while " + what;
    if (s.msg) msg += std::string(": ") + s.msg;
    return Error::make(ErrorKind::Data, msg, code);
}
}  // namespace

namespace {
// Same parameters as CPython's zlib.compress (deflateInit => wbits 15,
// memLevel 8, default strategy), so output bytes match.
Error zlib_compress_impl(const void* data, std::size_t size, int level, std::string& out,
                        const std::function<bool()>& cancelled) {
    if (level < -1 || level > 9) return Error::make(ErrorKind::Data, "Bad compression level", Z_STREAM_ERROR);
    // CPython hands deflate its output space in growing blocks; stored
    // blocks (level 0) are cut at those boundaries, so reproduce them.
    static const std::size_t kBlocks[] = {32u << 10, 64u << 10, 256u << 10, 1u << 20, 4u << 20, 8u << 20,
                                          16u << 20, 16u << 20, 32u << 20, 32u << 20, 32u << 20, 32u << 20,
                                          64u << 20, 64u << 20, 128u << 20, 128u << 20, 256u << 20};
    std::size_t next_block = 0;
    Deflater d;
    int rc = deflateInit(&d.s, level);
    if (rc != Z_OK) return zerr(rc, "compressing data", d.s);
    d.ok = true;
    out.clear();
    std::size_t produced = 0;
    auto grow = [&] {
        std::size_t b = kBlocks[next_block < std::size(kBlocks) - 1 ? next_block++ : next_block];
        out.resize(out.size() + b);
    };
    d.s.next_in = const_cast<Bytef*>(static_cast<const Bytef*>(data));
    std::size_t in_left = size;
    int flush;
    do {
        uInt in_chunk = in_left > UINT_MAX ? UINT_MAX : static_cast<uInt>(in_left);
        d.s.avail_in = in_chunk;
        in_left -= in_chunk;
        flush = in_left == 0 ? Z_FINISH : Z_NO_FLUSH;
        do {
            if (cancelled && cancelled()) return cancelled_error();
            if (produced == out.size()) grow();
            std::size_t room = out.size() - produced;
            // Level 0 cuts stored blocks where the output space ends: keep
            // CPython's block sizes there for byte-identical output.
            if (level != 0 && room > kStep) room = kStep;
            d.s.next_out = reinterpret_cast<Bytef*>(&out[produced]);
            d.s.avail_out = room > UINT_MAX ? UINT_MAX : static_cast<uInt>(room);
            uInt before = d.s.avail_out;
            rc = deflate(&d.s, flush);
            produced += before - d.s.avail_out;
            if (rc == Z_STREAM_ERROR) return zerr(rc, "compressing data", d.s);
        } while (d.s.avail_out == 0);
    } while (flush != Z_FINISH);
    if (rc != Z_STREAM_END) return zerr(rc, "compressing data", d.s);
    out.resize(produced);
    return {};
}

Error zlib_decompress_impl(const void* data, std::size_t size, std::string& out,
                          const std::function<bool()>& cancelled) {
    Inflater f;
    int rc = inflateInit(&f.s);
    if (rc != Z_OK) return zerr(rc, "preparing to decompress data", f.s);
    f.ok = true;
    out.clear();
    out.resize(size * 3 + 1024);
    std::size_t produced = 0, in_left = size;
    f.s.next_in = const_cast<Bytef*>(static_cast<const Bytef*>(data));
    rc = Z_OK;
    while (rc != Z_STREAM_END) {
        if (f.s.avail_in == 0) {
            if (in_left == 0) break;
            uInt chunk = in_left > UINT_MAX ? UINT_MAX : static_cast<uInt>(in_left);
            f.s.avail_in = chunk;
            in_left -= chunk;
        }
        if (cancelled && cancelled()) return cancelled_error();
        if (produced == out.size()) out.resize(out.size() * 2);
        std::size_t room = out.size() - produced;
        if (room > kStep) room = kStep;
        f.s.next_out = reinterpret_cast<Bytef*>(&out[produced]);
        f.s.avail_out = room > UINT_MAX ? UINT_MAX : static_cast<uInt>(room);
        uInt before = f.s.avail_out;
        rc = inflate(&f.s, Z_SYNC_FLUSH);
        produced += before - f.s.avail_out;
        if (rc == Z_BUF_ERROR && f.s.avail_out != 0 && f.s.avail_in == 0 && in_left == 0) break;
        if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR) {
            return zerr(rc, "decompressing data", f.s);
        }
    }
    if (rc != Z_STREAM_END)
        return Error::make(ErrorKind::Data, "Error -5 while decompressing data: incomplete or truncated stream", Z_BUF_ERROR);
    out.resize(produced);
    return {};
}

}  // namespace

Error zlib_compress(const void* data, std::size_t size, int level, std::string& out,
                    const std::function<bool()>& cancelled) {
    Error result;
    Error caught = capture_errors([&] { result = zlib_compress_impl(data, size, level, out, cancelled); });
    if (caught || result) out = std::string();
    return caught ? caught : result;
}

Error zlib_decompress(const void* data, std::size_t size, std::string& out, const std::function<bool()>& cancelled) {
    Error result;
    Error caught = capture_errors([&] { result = zlib_decompress_impl(data, size, out, cancelled); });
    if (caught || result) out = std::string();
    return caught ? caught : result;
}

}  // namespace accel
