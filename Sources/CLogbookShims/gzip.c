#include "CLogbookShims.h"
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

size_t clogbook_gzip_bound(size_t n) {
    return (size_t)compressBound((uLong)n) + 64;
}

int clogbook_gzip(const uint8_t *in, size_t n, uint8_t *out, size_t *outlen, int level) {
    z_stream s;
    memset(&s, 0, sizeof s);
    int rc = deflateInit2(&s, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
    if (rc != Z_OK) return rc;
    s.next_in = (Bytef *)in;
    s.avail_in = (uInt)n;
    s.next_out = out;
    s.avail_out = (uInt)*outlen;
    rc = deflate(&s, Z_FINISH);
    *outlen = s.total_out;
    deflateEnd(&s);
    return rc == Z_STREAM_END ? 0 : (rc == Z_OK ? Z_BUF_ERROR : rc);
}

void *clogbook_gunzip_new(void) {
    z_stream *s = calloc(1, sizeof(z_stream));
    if (!s) return NULL;
    if (inflateInit2(s, 15 + 16) != Z_OK) { free(s); return NULL; }
    return s;
}

int clogbook_gunzip(void *state, const uint8_t *in, size_t inlen, size_t *consumed,
                    uint8_t *out, size_t outcap, size_t *produced) {
    z_stream *s = state;
    s->next_in = (Bytef *)in;
    s->avail_in = (uInt)inlen;
    s->next_out = out;
    s->avail_out = (uInt)outcap;
    int rc = inflate(s, Z_NO_FLUSH);
    *consumed = inlen - s->avail_in;
    *produced = outcap - s->avail_out;
    if (rc == Z_STREAM_END) return 1;
    if (rc == Z_OK || rc == Z_BUF_ERROR) return 0;
    return rc < 0 ? rc : -100;
}

void clogbook_gunzip_free(void *state) {
    if (!state) return;
    inflateEnd(state);
    free(state);
}
