/* SPDX-License-Identifier: Apache-2.0 */
/* Listening sockets (include/ganglion/listen.h): the address of a listener's host and
 * port, a libuv TCP handle bound and listening on it, and an accepted connection's
 * immediate ACK. Loop thread. */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>

#include "ganglion/listen.h"

int gn_listen_addr(const char *host, int port, struct sockaddr_storage *out)
{
    if (!host || !host[0]) host = "0.0.0.0";
    return strchr(host, ':') ? uv_ip6_addr(host, port, (struct sockaddr_in6 *)out)
                             : uv_ip4_addr(host, port, (struct sockaddr_in *)out);
}

int gn_tcp_listen(uv_tcp_t *tcp, const char *host, int port, uv_connection_cb cb)
{
    struct sockaddr_storage addr;
    int rc = gn_listen_addr(host, port, &addr);
    if (rc == 0) rc = uv_tcp_bind(tcp, (const struct sockaddr *)&addr, 0);
    if (rc == 0) rc = uv_listen((uv_stream_t *)tcp, GN_LISTEN_BACKLOG, cb);
    return rc;
}

void gn_tcp_ack_now(uv_tcp_t *tcp)
{
    uv_os_fd_t fd;
    int one = 1;
    if (uv_fileno((const uv_handle_t *)tcp, &fd) == 0)
        (void)setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one); /* a hint */
}
