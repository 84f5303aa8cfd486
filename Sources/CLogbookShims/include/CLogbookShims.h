// Thin wrappers for system calls whose Swift import is awkward on Linux
// (`flock` collides with `struct flock`; `fstatfs` is not in the Glibc module),
// and for the system zlib's gzip streams (journal segments are .jsonl.gz).
#ifndef CLOGBOOK_SHIMS_H
#define CLOGBOOK_SHIMS_H
#include <stddef.h>
#include <stdint.h>

int clogbook_flock(int fd, int operation);
/// The f_type of the file system holding fd, or -1 with errno set.
int64_t clogbook_fs_type(int fd);

/// Upper bound of the gzip size of n bytes.
size_t clogbook_gzip_bound(size_t n);
/// gzip-compresses in[0..n) into out (capacity *outlen); sets *outlen. Returns 0 or a zlib error.
int clogbook_gzip(const uint8_t *in, size_t n, uint8_t *out, size_t *outlen, int level);

/// A streaming gzip decoder.
void *clogbook_gunzip_new(void);
/// Decodes from in[0..inlen) into out[0..outcap); sets *consumed and *produced.
/// Returns 0 (more to come), 1 (end of the gzip stream) or a negative zlib error.
int clogbook_gunzip(void *state, const uint8_t *in, size_t inlen, size_t *consumed,
                    uint8_t *out, size_t outcap, size_t *produced);
void clogbook_gunzip_free(void *state);

#endif
