/* SPDX-License-Identifier: Apache-2.0 */
/* MQTT 3.1, 3.1.1 and 5.0 wire codec: fixed header and remaining length, bounds-checked
 * readers, UTF-8 rules, the property table, the reason-code list, a decoder for every
 * packet a client sends and encoders for every packet the server sends. Pure functions
 * over caller buffers: any thread (the session calls them on the loop). */
#ifndef MQTT_CODEC_H
#define MQTT_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ganglion/bytes.h"

/* Protocol levels (CONNECT byte 7). */
#define MQTT_V31  3
#define MQTT_V311 4
#define MQTT_V5   5

/* Control packet types (fixed header bits 7-4). */
#define MQTT_CONNECT     1
#define MQTT_CONNACK     2
#define MQTT_PUBLISH     3
#define MQTT_PUBACK      4
#define MQTT_PUBREC      5
#define MQTT_PUBREL      6
#define MQTT_PUBCOMP     7
#define MQTT_SUBSCRIBE   8
#define MQTT_SUBACK      9
#define MQTT_UNSUBSCRIBE 10
#define MQTT_UNSUBACK    11
#define MQTT_PINGREQ     12
#define MQTT_PINGRESP    13
#define MQTT_DISCONNECT  14
#define MQTT_AUTH        15

#define MQTT_MAX_REMAINING 268435455u /* 4-byte variable byte integer */

/* Reason codes (MQTT 5 section 2.4): XX(name, value, sentence). */
#define MQTT_RC_MAP(XX)                                                                            \
    XX(SUCCESS, 0x00, "success")                                                                   \
    XX(GRANTED_QOS1, 0x01, "granted QoS 1")                                                        \
    XX(GRANTED_QOS2, 0x02, "granted QoS 2")                                                        \
    XX(DISCONNECT_WITH_WILL, 0x04, "disconnect with will message")                                 \
    XX(NO_MATCHING_SUBSCRIBERS, 0x10, "no matching subscribers")                                   \
    XX(NO_SUBSCRIPTION_EXISTED, 0x11, "no subscription existed")                                   \
    XX(CONTINUE_AUTHENTICATION, 0x18, "continue authentication")                                   \
    XX(REAUTHENTICATE, 0x19, "re-authenticate")                                                    \
    XX(UNSPECIFIED, 0x80, "unspecified error")                                                     \
    XX(MALFORMED_PACKET, 0x81, "malformed packet")                                                 \
    XX(PROTOCOL_ERROR, 0x82, "protocol error")                                                     \
    XX(IMPLEMENTATION_SPECIFIC, 0x83, "implementation specific error")                             \
    XX(UNSUPPORTED_PROTOCOL_VERSION, 0x84, "unsupported protocol version")                         \
    XX(CLIENT_ID_NOT_VALID, 0x85, "client identifier not valid")                                   \
    XX(BAD_USERNAME_OR_PASSWORD, 0x86, "bad user name or password")                                \
    XX(NOT_AUTHORIZED, 0x87, "not authorized")                                                     \
    XX(SERVER_UNAVAILABLE, 0x88, "server unavailable")                                             \
    XX(SERVER_BUSY, 0x89, "server busy")                                                           \
    XX(BANNED, 0x8A, "banned")                                                                     \
    XX(SERVER_SHUTTING_DOWN, 0x8B, "server shutting down")                                         \
    XX(BAD_AUTHENTICATION_METHOD, 0x8C, "bad authentication method")                               \
    XX(KEEP_ALIVE_TIMEOUT, 0x8D, "keep alive timeout")                                             \
    XX(SESSION_TAKEN_OVER, 0x8E, "session taken over")                                             \
    XX(TOPIC_FILTER_INVALID, 0x8F, "topic filter invalid")                                         \
    XX(TOPIC_NAME_INVALID, 0x90, "topic name invalid")                                             \
    XX(PACKET_ID_IN_USE, 0x91, "packet identifier in use")                                         \
    XX(PACKET_ID_NOT_FOUND, 0x92, "packet identifier not found")                                   \
    XX(RECEIVE_MAXIMUM_EXCEEDED, 0x93, "receive maximum exceeded")                                 \
    XX(TOPIC_ALIAS_INVALID, 0x94, "topic alias invalid")                                           \
    XX(PACKET_TOO_LARGE, 0x95, "packet too large")                                                 \
    XX(MESSAGE_RATE_TOO_HIGH, 0x96, "message rate too high")                                       \
    XX(QUOTA_EXCEEDED, 0x97, "quota exceeded")                                                     \
    XX(ADMINISTRATIVE_ACTION, 0x98, "administrative action")                                       \
    XX(PAYLOAD_FORMAT_INVALID, 0x99, "payload format invalid")                                     \
    XX(RETAIN_NOT_SUPPORTED, 0x9A, "retain not supported")                                         \
    XX(QOS_NOT_SUPPORTED, 0x9B, "QoS not supported")                                               \
    XX(USE_ANOTHER_SERVER, 0x9C, "use another server")                                             \
    XX(SERVER_MOVED, 0x9D, "server moved")                                                         \
    XX(SHARED_SUBSCRIPTIONS_NOT_SUPPORTED, 0x9E, "shared subscriptions not supported")             \
    XX(CONNECTION_RATE_EXCEEDED, 0x9F, "connection rate exceeded")                                 \
    XX(MAXIMUM_CONNECT_TIME, 0xA0, "maximum connect time")                                         \
    XX(SUBSCRIPTION_IDS_NOT_SUPPORTED, 0xA1, "subscription identifiers not supported")             \
    XX(WILDCARD_SUBSCRIPTIONS_NOT_SUPPORTED, 0xA2, "wildcard subscriptions not supported")

enum {
#define MQTT__RC_ENUM(name, value, sentence) MQTT_RC_##name = (value),
    MQTT_RC_MAP(MQTT__RC_ENUM)
#undef MQTT__RC_ENUM
};

/* MQTT 3.1.1 CONNACK return codes. */
#define MQTT_CONNACK_V3_ACCEPTED          0
#define MQTT_CONNACK_V3_BAD_PROTOCOL      1
#define MQTT_CONNACK_V3_ID_REJECTED       2
#define MQTT_CONNACK_V3_SERVER_UNAVAIL    3
#define MQTT_CONNACK_V3_BAD_USER_PASSWORD 4
#define MQTT_CONNACK_V3_NOT_AUTHORIZED    5

const char *mqtt_rc_name(int rc);     /* "TOPIC_NAME_INVALID"; "UNKNOWN" if none */
const char *mqtt_rc_sentence(int rc); /* "topic name invalid" */
/* Translate a gn error (include/ganglion/error.h) to a v5 reason code (>= 0x80). */
int mqtt_rc_from_gn(int err);
/* The v3.1.1 CONNACK return code nearest a v5 reason code. */
uint8_t mqtt_rc_to_connack_v3(int rc);

/* Property wire types. */
typedef enum mqtt_prop_type {
    MQTT_PT_BYTE = 1,
    MQTT_PT_INT16,
    MQTT_PT_INT32,
    MQTT_PT_VARINT,
    MQTT_PT_UTF8,
    MQTT_PT_BINARY,
    MQTT_PT_PAIR,
} mqtt_prop_type_t;

/* Where a property may appear: bit (1 << packet type); bit 0 stands for the will. */
#define MQTT_IN(t)   (1u << (t))
#define MQTT_IN_WILL 1u

/* XX(name, id, wire type, where allowed, field) */
#define MQTT_PROP_MAP(XX)                                                                          \
    XX(PAYLOAD_FORMAT_INDICATOR, 0x01, BYTE, MQTT_IN(MQTT_PUBLISH) | MQTT_IN_WILL)                 \
    XX(MESSAGE_EXPIRY_INTERVAL, 0x02, INT32, MQTT_IN(MQTT_PUBLISH) | MQTT_IN_WILL)                 \
    XX(CONTENT_TYPE, 0x03, UTF8, MQTT_IN(MQTT_PUBLISH) | MQTT_IN_WILL)                             \
    XX(RESPONSE_TOPIC, 0x08, UTF8, MQTT_IN(MQTT_PUBLISH) | MQTT_IN_WILL)                           \
    XX(CORRELATION_DATA, 0x09, BINARY, MQTT_IN(MQTT_PUBLISH) | MQTT_IN_WILL)                       \
    XX(SUBSCRIPTION_IDENTIFIER, 0x0B, VARINT, MQTT_IN(MQTT_PUBLISH) | MQTT_IN(MQTT_SUBSCRIBE))     \
    XX(SESSION_EXPIRY_INTERVAL, 0x11, INT32,                                                       \
       MQTT_IN(MQTT_CONNECT) | MQTT_IN(MQTT_CONNACK) | MQTT_IN(MQTT_DISCONNECT))                   \
    XX(ASSIGNED_CLIENT_IDENTIFIER, 0x12, UTF8, MQTT_IN(MQTT_CONNACK))                              \
    XX(SERVER_KEEP_ALIVE, 0x13, INT16, MQTT_IN(MQTT_CONNACK))                                      \
    XX(AUTHENTICATION_METHOD, 0x15, UTF8,                                                          \
       MQTT_IN(MQTT_CONNECT) | MQTT_IN(MQTT_CONNACK) | MQTT_IN(MQTT_AUTH))                         \
    XX(AUTHENTICATION_DATA, 0x16, BINARY,                                                          \
       MQTT_IN(MQTT_CONNECT) | MQTT_IN(MQTT_CONNACK) | MQTT_IN(MQTT_AUTH))                         \
    XX(REQUEST_PROBLEM_INFORMATION, 0x17, BYTE, MQTT_IN(MQTT_CONNECT))                             \
    XX(WILL_DELAY_INTERVAL, 0x18, INT32, MQTT_IN_WILL)                                             \
    XX(REQUEST_RESPONSE_INFORMATION, 0x19, BYTE, MQTT_IN(MQTT_CONNECT))                            \
    XX(RESPONSE_INFORMATION, 0x1A, UTF8, MQTT_IN(MQTT_CONNACK))                                    \
    XX(SERVER_REFERENCE, 0x1C, UTF8, MQTT_IN(MQTT_CONNACK) | MQTT_IN(MQTT_DISCONNECT))             \
    XX(REASON_STRING, 0x1F, UTF8,                                                                  \
       MQTT_IN(MQTT_CONNACK) | MQTT_IN(MQTT_PUBACK) | MQTT_IN(MQTT_PUBREC) |                       \
           MQTT_IN(MQTT_PUBREL) | MQTT_IN(MQTT_PUBCOMP) | MQTT_IN(MQTT_SUBACK) |                   \
           MQTT_IN(MQTT_UNSUBACK) | MQTT_IN(MQTT_DISCONNECT) | MQTT_IN(MQTT_AUTH))                 \
    XX(RECEIVE_MAXIMUM, 0x21, INT16, MQTT_IN(MQTT_CONNECT) | MQTT_IN(MQTT_CONNACK))                \
    XX(TOPIC_ALIAS_MAXIMUM, 0x22, INT16, MQTT_IN(MQTT_CONNECT) | MQTT_IN(MQTT_CONNACK))            \
    XX(TOPIC_ALIAS, 0x23, INT16, MQTT_IN(MQTT_PUBLISH))                                            \
    XX(MAXIMUM_QOS, 0x24, BYTE, MQTT_IN(MQTT_CONNACK))                                             \
    XX(RETAIN_AVAILABLE, 0x25, BYTE, MQTT_IN(MQTT_CONNACK))                                        \
    XX(USER_PROPERTY, 0x26, PAIR, 0xffffu)                                                         \
    XX(MAXIMUM_PACKET_SIZE, 0x27, INT32, MQTT_IN(MQTT_CONNECT) | MQTT_IN(MQTT_CONNACK))            \
    XX(WILDCARD_SUBSCRIPTION_AVAILABLE, 0x28, BYTE, MQTT_IN(MQTT_CONNACK))                         \
    XX(SUBSCRIPTION_IDENTIFIER_AVAILABLE, 0x29, BYTE, MQTT_IN(MQTT_CONNACK))                       \
    XX(SHARED_SUBSCRIPTION_AVAILABLE, 0x2A, BYTE, MQTT_IN(MQTT_CONNACK))

enum {
#define MQTT__PROP_ENUM(name, id, type, where) MQTT_PROP_##name = (id),
    MQTT_PROP_MAP(MQTT__PROP_ENUM)
#undef MQTT__PROP_ENUM
};

typedef struct mqtt_prop_def {
    uint8_t id;
    mqtt_prop_type_t type;
    uint32_t where;
    const char *name;
} mqtt_prop_def_t;

/* The table row for id, or NULL for an unknown property. */
const mqtt_prop_def_t *mqtt_prop_def(uint8_t id);

/* The properties of one packet, decoded and checked against the table. Singular
 * values carry a bit in `present` (1ull << id); user properties stay in `raw` and are
 * walked with mqtt_props_next_user. Views borrow the packet buffer. */
typedef struct mqtt_props {
    uint64_t present;
    gn_bytes_t raw; /* the whole property block (without its length) */
    uint8_t payload_format;
    uint32_t message_expiry;
    gn_bytes_t content_type;
    gn_bytes_t response_topic;
    gn_bytes_t correlation_data;
    uint32_t subscription_id;
    uint32_t session_expiry;
    uint16_t server_keep_alive;
    gn_bytes_t auth_method;
    gn_bytes_t auth_data;
    uint8_t request_problem_info;
    uint32_t will_delay;
    uint8_t request_response_info;
    gn_bytes_t reason_string;
    uint16_t receive_maximum;
    uint16_t topic_alias_maximum;
    uint16_t topic_alias;
    uint32_t maximum_packet_size;
    uint32_t user_count;
} mqtt_props_t;

static inline bool mqtt_props_has(const mqtt_props_t *p, uint8_t id)
{
    return (p->present >> id) & 1u;
}
/* Walk user properties: 1 and name/value filled, 0 at the end. *pos starts at 0. */
int mqtt_props_next_user(const mqtt_props_t *p, size_t *pos, gn_bytes_t *name, gn_bytes_t *value);

/* A client packet, decoded. Views borrow the input buffer. */
typedef struct mqtt_packet {
    uint8_t type;
    uint8_t flags; /* low nibble of the first byte */
    uint32_t remaining;
    uint16_t packet_id;
    uint8_t reason; /* acks, DISCONNECT, AUTH (v5) */
    mqtt_props_t props;
    /* CONNECT */
    gn_bytes_t protocol_name;
    uint8_t protocol_level;
    uint8_t connect_flags;
    uint16_t keep_alive;
    gn_bytes_t client_id;
    mqtt_props_t will_props;
    gn_bytes_t will_topic;
    gn_bytes_t will_payload;
    gn_bytes_t username; /* ptr NULL when absent */
    gn_bytes_t password;
    /* PUBLISH */
    uint8_t qos;
    bool dup, retain;
    gn_bytes_t topic; /* may be empty with a topic alias (v5) */
    gn_bytes_t payload;
    /* SUBSCRIBE / UNSUBSCRIBE: the entries, checked, walked with mqtt_sub_next */
    gn_bytes_t entries;
    uint32_t entry_count;
} mqtt_packet_t;

#define MQTT_CF_USERNAME    0x80
#define MQTT_CF_PASSWORD    0x40
#define MQTT_CF_WILL_RETAIN 0x20
#define MQTT_CF_WILL_QOS(f) (((f) >> 3) & 3)
#define MQTT_CF_WILL        0x04
#define MQTT_CF_CLEAN       0x02

/* One SUBSCRIBE entry (options byte split) or UNSUBSCRIBE filter. */
typedef struct mqtt_sub_entry {
    gn_bytes_t filter;
    uint8_t qos;
    bool no_local;
    bool retain_as_published;
    uint8_t retain_handling;
} mqtt_sub_entry_t;

/* 1 and *e filled, 0 at the end; *pos starts at 0. */
int mqtt_sub_next(const mqtt_packet_t *pkt, int version, size_t *pos, mqtt_sub_entry_t *e);

/* Frame: reads the fixed header. Returns the whole frame size (> 0) when complete,
 * GN_EAGAIN when more bytes are needed, GN_EINVALID_REQUEST for a malformed remaining
 * length (*reason = MALFORMED_PACKET). *hdr_len gets the fixed header's size. */
int64_t mqtt_frame_peek(const uint8_t *p, size_t len, uint32_t *remaining, size_t *hdr_len);

/* Decodes one whole client packet at p for a session at `version` (0 before CONNECT:
 * only CONNECT is accepted). The decoder contract: > 0 bytes consumed, GN_EAGAIN need
 * more, < 0 protocol error with *reason set (MALFORMED_PACKET, PROTOCOL_ERROR,
 * UNSUPPORTED_PROTOCOL_VERSION, TOPIC_NAME_INVALID, TOPIC_FILTER_INVALID,
 * PACKET_TOO_LARGE ...). max_packet 0 = no limit. */
int64_t mqtt_packet_decode(const uint8_t *p, size_t len, int version, uint32_t max_packet,
                           mqtt_packet_t *pkt, uint8_t *reason);

/* UTF-8 as MQTT wants it: well-formed, no U+0000, no surrogates, no overlong forms. */
bool mqtt_utf8_valid(const uint8_t *p, size_t len);
/* A topic name for PUBLISH: no '+' or '#', valid UTF-8, 1..65535 bytes. */
bool mqtt_topic_name_valid(gn_bytes_t t);
/* A topic filter: '#' last and alone in its level, '+' alone in its level. */
bool mqtt_topic_filter_valid(gn_bytes_t f);

/* ---- encoding ----------------------------------------------------------------- */

/* A growable output buffer that keeps 5 bytes of headroom for the fixed header,
 * written last when the remaining length is known. */
typedef struct mqtt_wbuf {
    uint8_t *buf;
    size_t len; /* includes the headroom */
    size_t cap;
    int err; /* sticky GN_ENOMEM */
} mqtt_wbuf_t;

void mqtt_wbuf_init(mqtt_wbuf_t *w);
void mqtt_wbuf_free(mqtt_wbuf_t *w);
void mqtt_w_u8(mqtt_wbuf_t *w, uint8_t v);
void mqtt_w_u16(mqtt_wbuf_t *w, uint16_t v);
void mqtt_w_u32(mqtt_wbuf_t *w, uint32_t v);
void mqtt_w_varint(mqtt_wbuf_t *w, uint32_t v);
void mqtt_w_bytes(mqtt_wbuf_t *w, const void *p, size_t n);
void mqtt_w_str(mqtt_wbuf_t *w, gn_bytes_t s); /* 2-byte length + bytes */
/* Finishes a packet: the fixed header goes in front. *out and *out_len: the packet,
 * inside w->buf. 0 or GN_ENOMEM. */
int mqtt_wbuf_finish(mqtt_wbuf_t *w, uint8_t first_byte, const uint8_t **out, size_t *out_len);

/* Properties to send: built into their own buffer, then mqtt_w_props. */
void mqtt_p_u8(mqtt_wbuf_t *w, uint8_t id, uint8_t v);
void mqtt_p_u16(mqtt_wbuf_t *w, uint8_t id, uint16_t v);
void mqtt_p_u32(mqtt_wbuf_t *w, uint8_t id, uint32_t v);
void mqtt_p_varint(mqtt_wbuf_t *w, uint8_t id, uint32_t v);
void mqtt_p_str(mqtt_wbuf_t *w, uint8_t id, gn_bytes_t s);
void mqtt_p_pair(mqtt_wbuf_t *w, gn_bytes_t name, gn_bytes_t value);
/* Appends the property length and the property bytes of props (headroom excluded). */
void mqtt_w_props(mqtt_wbuf_t *w, const mqtt_wbuf_t *props);
size_t mqtt_varint_size(uint32_t v);

/* Packet encoders (server to client). Each resets w, writes one whole packet and
 * returns it in out/out_len; props may be NULL (always NULL below v5). */
int mqtt_encode_connack(mqtt_wbuf_t *w, int version, bool session_present, uint8_t rc,
                        const mqtt_wbuf_t *props, const uint8_t **out, size_t *out_len);
/* PUBACK, PUBREC, PUBREL, PUBCOMP: rc 0 and no props gives the 2-byte form. */
int mqtt_encode_ack(mqtt_wbuf_t *w, int version, uint8_t type, uint16_t packet_id, uint8_t rc,
                    const mqtt_wbuf_t *props, const uint8_t **out, size_t *out_len);
int mqtt_encode_suback(mqtt_wbuf_t *w, int version, uint8_t type, uint16_t packet_id,
                       const uint8_t *rcs, size_t n, const mqtt_wbuf_t *props, const uint8_t **out,
                       size_t *out_len); /* type SUBACK or UNSUBACK */
int mqtt_encode_pingresp(mqtt_wbuf_t *w, const uint8_t **out, size_t *out_len);
int mqtt_encode_disconnect(mqtt_wbuf_t *w, int version, uint8_t rc, const mqtt_wbuf_t *props,
                           const uint8_t **out, size_t *out_len);
int mqtt_encode_auth(mqtt_wbuf_t *w, uint8_t rc, const mqtt_wbuf_t *props, const uint8_t **out,
                     size_t *out_len);
int mqtt_encode_publish(mqtt_wbuf_t *w, int version, uint8_t qos, bool dup, bool retain,
                        gn_bytes_t topic, uint16_t packet_id, const mqtt_wbuf_t *props,
                        gn_bytes_t payload, const uint8_t **out, size_t *out_len);

#endif
