/*
 * fdpass.c: SCM_RIGHTS beside the bytes (see fdpass.h).
 */
#include "fdpass.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Room for the most descriptors one message brings (one is sent at a
 * time; more from a broken peer are closed). */
#define FDPASS_MAX 4

ssize_t wsl_fd_send(int sock, const struct iovec *iov, int n, int fd)
{
    union {
        struct cmsghdr h;
        char space[CMSG_SPACE(sizeof(int))];
    } control;
    struct msghdr mh;
    ssize_t done;

    memset(&mh, 0, sizeof(mh));
    mh.msg_iov = (struct iovec *)iov;
    mh.msg_iovlen = (size_t)n;
    if (fd >= 0) {
        struct cmsghdr *cm;

        memset(&control, 0, sizeof(control));
        mh.msg_control = control.space;
        mh.msg_controllen = sizeof(control.space);
        cm = CMSG_FIRSTHDR(&mh);
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(cm), &fd, sizeof(int));
    }
    do {
        done = sendmsg(sock, &mh, MSG_NOSIGNAL);
    } while (done < 0 && errno == EINTR);
    return done;
}

ssize_t wsl_fd_recv(int sock, void *buf, size_t len, int *fds, int max,
                    int *nfds)
{
    union {
        struct cmsghdr h;
        char space[CMSG_SPACE(sizeof(int) * FDPASS_MAX)];
    } control;
    struct iovec iov = { buf, len };
    struct msghdr mh;
    struct cmsghdr *cm;
    ssize_t n;

    memset(&mh, 0, sizeof(mh));
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    mh.msg_control = control.space;
    mh.msg_controllen = sizeof(control.space);
    do {
        n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
    } while (n < 0 && errno == EINTR);
    if (n < 0)
        return n;
    for (cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
        size_t k, count;

        if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
            continue;
        count = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (k = 0; k < count; k++) {
            int fd;

            memcpy(&fd, CMSG_DATA(cm) + k * sizeof(int), sizeof(int));
            if (*nfds < max)
                fds[(*nfds)++] = fd;
            else
                close(fd);
        }
    }
    return n;
}
