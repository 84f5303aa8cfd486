#include "CLogbookShims.h"
#include <sys/file.h>
#ifdef __linux__
#include <sys/vfs.h>
#else
#include <sys/param.h>
#include <sys/mount.h>
#endif

int clogbook_flock(int fd, int operation) { return flock(fd, operation); }

int64_t clogbook_fs_type(int fd) {
    struct statfs s;
    if (fstatfs(fd, &s) != 0) return -1;
    return (int64_t)s.f_type;
}
