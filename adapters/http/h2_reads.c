/* SPDX-License-Identifier: Apache-2.0 */
/* Frame-bounded reads for h2 connections: libwebsockets 4.1.6 reads its sockets with
 * recv(); this file interposes recv() so that on a socket adopted into the h2c vhost no
 * read goes past the end of an HTTP/2 DATA frame. lws 4.1.6 compares a stream's unread
 * content-length with the bytes left in the whole read buffer instead of in the frame
 * (lib/roles/h2/http2.c, "More rx than content_length told", fixed upstream after 4.2):
 * when a request body's last DATA frame shares a read with any later frame (the client's
 * SETTINGS ACK or WINDOW_UPDATE, another stream's HEADERS or DATA) it sends GOAWAY
 * PROTOCOL_ERROR and drops every stream of the connection. A read that ends with the
 * DATA frame keeps the check true. On the TLS port lws reads with SSL_read(), which is
 * interposed the same way once the connection chose h2 through ALPN. Other sockets pass
 * through untouched. Tracked sockets
 * are registered and read on the loop thread only; the table is fixed, so other threads'
 * recv() calls only read their own untracked slots. */
#include <dlfcn.h>
#include <openssl/ssl.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "http.h"

#define H2_FRAME_HEADER 9
#define H2_TYPE_DATA    0x0
#define H2_READS_MAX_FD 65536
#define H2_PREFACE_BYTES                                                                           \
    24 /* "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" */ /* sockets above this are read unbounded (the lws  \
                                                   bug remains) */

typedef struct h2_frame_cursor {
    bool tracked;
    bool tls_pending; /* a TLS socket whose ALPN choice is not looked at yet */
    uint8_t skip;     /* preface bytes still to pass (TLS: lws reads the preface itself) */
    bool data;        /* the current frame is DATA */
    uint8_t have;     /* header bytes seen of the current frame, 0..9 */
    uint8_t hdr[H2_FRAME_HEADER];
    uint32_t left; /* payload bytes left once the header is complete */
} h2_frame_cursor_t;

static h2_frame_cursor_t cursors[H2_READS_MAX_FD];

void http__h2_reads_track(int fd, bool on)
{
    if (fd < 0 || fd >= H2_READS_MAX_FD) return;
    memset(&cursors[fd], 0, sizeof cursors[fd]);
    cursors[fd].tracked = on; /* the preface is consumed: the next byte starts a frame */
}

void http__h2_reads_track_tls(int fd)
{
    if (fd < 0 || fd >= H2_READS_MAX_FD) return;
    memset(&cursors[fd], 0, sizeof cursors[fd]);
    cursors[fd].tls_pending = true;
}

/* Walks n bytes through the cursor; with stop, returns the offset just after the first
 * DATA frame that ends within them (n if none) and walks no further. */
static size_t cursor_walk(h2_frame_cursor_t *c, const uint8_t *p, size_t n, bool stop)
{
    size_t i = 0;
    if (c->skip) {
        size_t take = n < c->skip ? n : c->skip;
        c->skip -= (uint8_t)take;
        i = take;
    }
    while (i < n) {
        if (c->have < H2_FRAME_HEADER) {
            c->hdr[c->have++] = p[i++];
            if (c->have < H2_FRAME_HEADER) continue;
            c->left = (uint32_t)c->hdr[0] << 16 | (uint32_t)c->hdr[1] << 8 | c->hdr[2];
            c->data = c->hdr[3] == H2_TYPE_DATA;
        } else {
            size_t take = n - i < c->left ? n - i : c->left;
            c->left -= (uint32_t)take;
            i += take;
        }
        if (c->have == H2_FRAME_HEADER && c->left == 0) { /* the frame ends here */
            bool was_data = c->data;
            c->have = 0;
            if (stop && was_data) return i;
        }
    }
    return n;
}

ssize_t recv(int fd, void *buf, size_t len, int flags)
{
    if (fd < 0 || fd >= H2_READS_MAX_FD || !cursors[fd].tracked || flags != 0 || len == 0)
        return recvfrom(fd, buf, len, flags, NULL, NULL);
    ssize_t n = recvfrom(fd, buf, len, MSG_PEEK, NULL, NULL);
    if (n <= 0) return recvfrom(fd, buf, len, flags, NULL, NULL); /* EOF or the error */
    h2_frame_cursor_t probe = cursors[fd];
    size_t want = cursor_walk(&probe, buf, (size_t)n, true);
    n = recvfrom(fd, buf, want, 0, NULL, NULL);
    if (n > 0) cursor_walk(&cursors[fd], buf, (size_t)n, false);
    return n;
}

/* The same bound on the TLS port, where lws reads plaintext with SSL_read: a connection
 * that chose h2 through ALPN has its reads end at DATA frame ends (peeked first). Our own
 * TLS (core/tls) reads with SSL_read_ex and is not affected. */
typedef int (*ssl_read_fn)(SSL *ssl, void *buf, int num);

int SSL_read(SSL *ssl, void *buf, int num)
{
    static ssl_read_fn real;
    if (!real) real = (ssl_read_fn)dlsym(RTLD_NEXT, "SSL_read");
    int fd = SSL_get_fd(ssl);
    if (fd < 0 || fd >= H2_READS_MAX_FD || num <= 0) return real(ssl, buf, num);
    h2_frame_cursor_t *c = &cursors[fd];
    if (c->tls_pending) {
        const unsigned char *alpn;
        unsigned int alen = 0;
        SSL_get0_alpn_selected(ssl, &alpn, &alen);
        c->tls_pending = false;
        c->tracked = alen == 2 && memcmp(alpn, "h2", 2) == 0;
        c->skip = (uint8_t)H2_PREFACE_BYTES;
    }
    if (!c->tracked) return real(ssl, buf, num);
    int n = SSL_peek(ssl, buf, num);
    if (n <= 0) return real(ssl, buf, num); /* the error, or nothing decrypted yet */
    h2_frame_cursor_t probe = *c;
    size_t want = cursor_walk(&probe, buf, (size_t)n, true);
    n = real(ssl, buf, (int)want);
    if (n > 0) cursor_walk(c, buf, (size_t)n, false);
    return n;
}
