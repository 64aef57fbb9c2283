/*
 * fdpass.h: descriptors passed over a UNIX socket (SCM_RIGHTS) beside
 * the bytes, for daemon mode's two ends: a file_wrapper's file and a
 * connection's ring.  Plain C.
 */
#ifndef WSL_FDPASS_H
#define WSL_FDPASS_H

#include <stddef.h>
#include <sys/types.h>
#include <sys/uio.h>

/* One sendmsg of iov[0..n) (MSG_NOSIGNAL), with fd on its first byte
 * unless fd is -1; EINTR retried.  What sendmsg returns. */
ssize_t wsl_fd_send(int sock, const struct iovec *iov, int n, int fd);
/* One recvmsg into buf (descriptors close-on-exec); EINTR retried.  The
 * descriptors that came are added to fds[*nfds..max), those beyond max
 * closed.  What recvmsg returns. */
ssize_t wsl_fd_recv(int sock, void *buf, size_t len, int *fds, int max,
                    int *nfds);

#endif /* WSL_FDPASS_H */
