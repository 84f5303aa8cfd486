// Thin wrappers for system calls whose Swift import is awkward on Linux
// (`flock` collides with `struct flock`; `fstatfs` is not in the Glibc module).
#ifndef CLOGBOOK_SHIMS_H
#define CLOGBOOK_SHIMS_H
#include <stdint.h>

int clogbook_flock(int fd, int operation);
/// The f_type of the file system holding fd, or -1 with errno set.
int64_t clogbook_fs_type(int fd);

#endif
