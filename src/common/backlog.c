/*
 * backlog.c: how many connections wait in a group's listening socket
 * for a daemon process to accept them.  A process with no thread free
 * stops accepting (daemon/process.c), so a request that finds every process
 * busy waits there, where no daemon can count it: the kernel can, and
 * says so to anyone who asks by the socket's inode (sock_diag, as
 * `ss -xl` reads its Recv-Q).  Linux only; -1 where it cannot tell.
 * Declared in board.h, whose figures it completes.
 */
#include "board.h"

#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

int wsl_socket_backlog(unsigned long inode)
{
    struct {
        struct nlmsghdr nh;
        struct unix_diag_req req;
    } ask;
    union {
        struct nlmsghdr nh;
        char bytes[8192];
    } answer;
    struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
    struct timeval wait = { 1, 0 };
    struct nlmsghdr *nh;
    ssize_t n;
    int fd, left, queued = -1;

    if (!inode || (fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC,
                               NETLINK_SOCK_DIAG)) < 0)
        return -1;
    /* The kernel answers at once; a bound on it all the same. */
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof(wait));
    memset(&ask, 0, sizeof(ask));
    ask.nh.nlmsg_len = sizeof(ask);
    ask.nh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
    ask.nh.nlmsg_flags = NLM_F_REQUEST;
    ask.req.sdiag_family = AF_UNIX;
    ask.req.udiag_states = ~0u;
    ask.req.udiag_ino = (__u32)inode;
    ask.req.udiag_show = UDIAG_SHOW_RQLEN;
    ask.req.udiag_cookie[0] = ask.req.udiag_cookie[1] = ~0u;
    if (sendto(fd, &ask, sizeof(ask), 0, (struct sockaddr *)&kernel,
               sizeof(kernel)) < 0 ||
        (n = recv(fd, &answer, sizeof(answer), 0)) <= 0) {
        close(fd);
        return -1;
    }
    close(fd);
    /* Lengths as int: the macros guard against what is left going
     * negative only for a signed one. */
    left = (int)n;
    for (nh = &answer.nh; NLMSG_OK(nh, left); nh = NLMSG_NEXT(nh, left)) {
        struct unix_diag_msg *msg = NLMSG_DATA(nh);
        struct rtattr *at;
        int len;

        if (nh->nlmsg_type != SOCK_DIAG_BY_FAMILY ||
            nh->nlmsg_len < NLMSG_LENGTH(sizeof(*msg)) ||
            msg->udiag_ino != (__u32)inode)
            continue;
        len = (int)(nh->nlmsg_len - NLMSG_LENGTH(sizeof(*msg)));
        for (at = (struct rtattr *)(msg + 1); RTA_OK(at, len);
             at = RTA_NEXT(at, len))
            /* A listening socket's: connections waiting, and the most
             * that may (listen-backlog). */
            if (at->rta_type == UNIX_DIAG_RQLEN &&
                RTA_PAYLOAD(at) >= sizeof(struct unix_diag_rqlen))
                queued = (int)((struct unix_diag_rqlen *)RTA_DATA(at))
                         ->udiag_rqueue;
    }
    return queued;
}
