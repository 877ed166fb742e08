#ifndef KAKEHASHI_CZLIB_SHIM_H
#define KAKEHASHI_CZLIB_SHIM_H

#include <string.h>
#include <zlib.h>

// Compresses `length` bytes at `input` into a gzip stream (RFC 1952) at `output`, which holds
// `*capacity` bytes (kh_gzip_bound gives enough); on success returns Z_OK and sets `*capacity`
// to the bytes written. deflateInit2 is a macro, which Swift cannot call; this wraps one whole
// compression in a call.
static inline unsigned long kh_gzip_bound(unsigned long length) {
    // deflateBound for zlib's own header, plus the larger gzip header and trailer.
    return compressBound(length) + 18;
}

static inline int kh_gzip(const unsigned char *input, unsigned long length, unsigned char *output,
                          unsigned long *capacity) {
    z_stream stream;
    memset(&stream, 0, sizeof(stream));
    int status = deflateInit2(&stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
    if (status != Z_OK) return status;
    stream.next_in = (unsigned char *)input;
    stream.avail_in = (uInt)length;
    stream.next_out = output;
    stream.avail_out = (uInt)*capacity;
    status = deflate(&stream, Z_FINISH);
    *capacity = stream.total_out;
    deflateEnd(&stream);
    return status == Z_STREAM_END ? Z_OK : (status == Z_OK ? Z_BUF_ERROR : status);
}

#endif
