/* SPDX-License-Identifier: Apache-2.0 */
/* Listening sockets of the adapters' ports: a host (IPv4, or IPv6 when it has a ':';
 * NULL or "": every IPv4 address) and a port. Loop thread. */
#ifndef GANGLION_LISTEN_H
#define GANGLION_LISTEN_H

#include <sys/socket.h>
#include <uv.h>

#define GN_LISTEN_BACKLOG 511

/* The socket address of host:port; 0 or a libuv error (a host that is no address). */
int gn_listen_addr(const char *host, int port, struct sockaddr_storage *out);

/* Binds tcp (initialised by the caller, who closes it on failure) to host:port and
 * listens, cb on each connection; 0 or a libuv error. */
int gn_tcp_listen(uv_tcp_t *tcp, const char *host, int port, uv_connection_cb cb);

/* Acknowledges at once what was read on a connection (TCP_QUICKACK, which also leaves
 * the kernel's delayed-ACK "pingpong" mode until we next send). */
void gn_tcp_ack_now(uv_tcp_t *tcp);

#endif
