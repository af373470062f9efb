/* SPDX-License-Identifier: Apache-2.0 */
/* MQTT wire primitives: bounds-checked reader, variable byte integers, UTF-8 and
 * topic rules, the property table and its decoder, the reason-code names, and the
 * output buffer with fixed-header headroom. Packet decoders are in decode.c, encoders
 * in encode.c. Pure functions: any thread. */
#include "codec.h"

#include <stdlib.h>
#include <string.h>

#include "codec_internal.h"
#include "ganglion/error.h"

/* ---- reason codes --------------------------------------------------------------- */

const char *mqtt_rc_name(int rc)
{
    switch (rc) {
#define MQTT__RC_NAME(name, value, sentence)                                                       \
    case value:                                                                                    \
        return #name;
        MQTT_RC_MAP(MQTT__RC_NAME)
#undef MQTT__RC_NAME
    }
    return "UNKNOWN";
}

const char *mqtt_rc_sentence(int rc)
{
    switch (rc) {
#define MQTT__RC_TEXT(name, value, sentence)                                                       \
    case value:                                                                                    \
        return sentence;
        MQTT_RC_MAP(MQTT__RC_TEXT)
#undef MQTT__RC_TEXT
    }
    return "unknown reason";
}

int mqtt_rc_from_gn(int err)
{
    switch (err) {
    case 0:
        return MQTT_RC_SUCCESS;
    case GN_EINVALID_TOPIC:
    case GN_EUNKNOWN_TOPIC:
        return MQTT_RC_TOPIC_NAME_INVALID;
    case GN_ETOOLARGE:
        return MQTT_RC_PACKET_TOO_LARGE;
    case GN_ENOMEM:
    case -ENOSPC:
    case GN_ENOT_ENOUGH_REPLICAS:
        return MQTT_RC_QUOTA_EXCEEDED;
    case GN_ESHUTDOWN:
        return MQTT_RC_SERVER_SHUTTING_DOWN;
    case GN_EPOLICY:
    case GN_ETOPIC_AUTHORIZATION:
    case GN_EGROUP_AUTHORIZATION:
    case GN_ECLUSTER_AUTHORIZATION:
        return MQTT_RC_NOT_AUTHORIZED;
    case GN_EAUTH:
        return MQTT_RC_BAD_USERNAME_OR_PASSWORD;
    case GN_EINVALID_REQUEST:
        return MQTT_RC_PROTOCOL_ERROR;
    case GN_ENOTLEADER:
        return MQTT_RC_USE_ANOTHER_SERVER;
    default:
        return MQTT_RC_UNSPECIFIED;
    }
}

uint8_t mqtt_rc_to_connack_v3(int rc)
{
    switch (rc) {
    case MQTT_RC_SUCCESS:
        return MQTT_CONNACK_V3_ACCEPTED;
    case MQTT_RC_UNSUPPORTED_PROTOCOL_VERSION:
        return MQTT_CONNACK_V3_BAD_PROTOCOL;
    case MQTT_RC_CLIENT_ID_NOT_VALID:
        return MQTT_CONNACK_V3_ID_REJECTED;
    case MQTT_RC_BAD_USERNAME_OR_PASSWORD:
        return MQTT_CONNACK_V3_BAD_USER_PASSWORD;
    case MQTT_RC_NOT_AUTHORIZED:
    case MQTT_RC_BANNED:
        return MQTT_CONNACK_V3_NOT_AUTHORIZED;
    default:
        return MQTT_CONNACK_V3_SERVER_UNAVAIL;
    }
}

/* ---- property table ------------------------------------------------------------- */

static const mqtt_prop_def_t prop_defs[] = {
#define MQTT__PROP_ROW(name, id, type, where) {id, MQTT_PT_##type, where, #name},
    MQTT_PROP_MAP(MQTT__PROP_ROW)
#undef MQTT__PROP_ROW
};

const mqtt_prop_def_t *mqtt_prop_def(uint8_t id)
{
    for (size_t i = 0; i < sizeof(prop_defs) / sizeof(prop_defs[0]); i++)
        if (prop_defs[i].id == id) return &prop_defs[i];
    return NULL;
}

/* ---- reader ---------------------------------------------------------------------- */

int mqtt__r_u8(mqtt_reader_t *r, uint8_t *v)
{
    if (r->end - r->pos < 1) return r->err = GN_EINVALID_REQUEST;
    *v = *r->pos++;
    return 0;
}

int mqtt__r_u16(mqtt_reader_t *r, uint16_t *v)
{
    if (r->end - r->pos < 2) return r->err = GN_EINVALID_REQUEST;
    *v = (uint16_t)(r->pos[0] << 8 | r->pos[1]);
    r->pos += 2;
    return 0;
}

int mqtt__r_u32(mqtt_reader_t *r, uint32_t *v)
{
    if (r->end - r->pos < 4) return r->err = GN_EINVALID_REQUEST;
    *v = (uint32_t)r->pos[0] << 24 | (uint32_t)r->pos[1] << 16 | (uint32_t)r->pos[2] << 8 |
         r->pos[3];
    r->pos += 4;
    return 0;
}

/* Variable byte integer: at most 4 bytes, the last without the continuation bit.
 * Returns 0, GN_EAGAIN when the input ends inside it, GN_EINVALID_REQUEST if > 4. */
int mqtt__varint_read(const uint8_t *p, size_t len, uint32_t *v, size_t *used)
{
    uint32_t val = 0;
    for (size_t i = 0; i < 4; i++) {
        if (i >= len) return GN_EAGAIN;
        val |= (uint32_t)(p[i] & 0x7f) << (7 * i);
        if (!(p[i] & 0x80)) {
            *v = val;
            *used = i + 1;
            return 0;
        }
    }
    return GN_EINVALID_REQUEST;
}

int mqtt__r_varint(mqtt_reader_t *r, uint32_t *v)
{
    size_t used;
    int rc = mqtt__varint_read(r->pos, (size_t)(r->end - r->pos), v, &used);
    if (rc < 0) return r->err = GN_EINVALID_REQUEST;
    r->pos += used;
    return 0;
}

int mqtt__r_bin(mqtt_reader_t *r, gn_bytes_t *out)
{
    uint16_t n;
    if (mqtt__r_u16(r, &n) < 0) return r->err;
    if (r->end - r->pos < n) return r->err = GN_EINVALID_REQUEST;
    out->ptr = r->pos;
    out->len = n;
    r->pos += n;
    return 0;
}

int mqtt__r_str(mqtt_reader_t *r, gn_bytes_t *out)
{
    if (mqtt__r_bin(r, out) < 0) return r->err;
    if (!mqtt_utf8_valid(out->ptr, out->len)) {
        r->reason = MQTT_RC_MALFORMED_PACKET;
        return r->err = GN_EINVALID_REQUEST;
    }
    return 0;
}

/* ---- UTF-8 and topics ---------------------------------------------------------- */

bool mqtt_utf8_valid(const uint8_t *p, size_t len)
{
    size_t i = 0;
    while (i < len) {
        uint8_t c = p[i];
        if (c < 0x80) {
            if (c == 0) return false;
            i++;
            continue;
        }
        uint32_t cp;
        size_t n;
        if ((c & 0xe0) == 0xc0) {
            cp = c & 0x1f;
            n = 1;
        } else if ((c & 0xf0) == 0xe0) {
            cp = c & 0x0f;
            n = 2;
        } else if ((c & 0xf8) == 0xf0) {
            cp = c & 0x07;
            n = 3;
        } else {
            return false;
        }
        if (len - i <= n) return false;
        for (size_t k = 1; k <= n; k++) {
            if ((p[i + k] & 0xc0) != 0x80) return false;
            cp = cp << 6 | (p[i + k] & 0x3f);
        }
        static const uint32_t min_cp[4] = {0, 0x80, 0x800, 0x10000};
        if (cp < min_cp[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
        i += n + 1;
    }
    return true;
}

bool mqtt_topic_name_valid(gn_bytes_t t)
{
    if (t.len == 0 || t.len > 65535) return false;
    if (memchr(t.ptr, '+', t.len) || memchr(t.ptr, '#', t.len)) return false;
    return mqtt_utf8_valid(t.ptr, t.len);
}

bool mqtt_topic_filter_valid(gn_bytes_t f)
{
    if (f.len == 0 || f.len > 65535) return false;
    for (size_t i = 0; i < f.len; i++) {
        uint8_t c = f.ptr[i];
        if (c != '+' && c != '#') continue;
        bool level_start = i == 0 || f.ptr[i - 1] == '/';
        bool level_end = i + 1 == f.len || f.ptr[i + 1] == '/';
        if (!level_start || !level_end) return false;
        if (c == '#' && i + 1 != f.len) return false;
    }
    return mqtt_utf8_valid(f.ptr, f.len);
}

/* ---- properties ----------------------------------------------------------------- */

/* Reads a property block (length + properties) for packet `where` (MQTT_IN(type) or
 * MQTT_IN_WILL), checking every id against the table and refusing duplicates. */
int mqtt__props_read(mqtt_reader_t *r, uint32_t where, mqtt_props_t *props)
{
    memset(props, 0, sizeof(*props));
    uint32_t plen;
    if (mqtt__r_varint(r, &plen) < 0) return r->err;
    if ((uint32_t)(r->end - r->pos) < plen) return r->err = GN_EINVALID_REQUEST;
    props->raw.ptr = r->pos;
    props->raw.len = plen;
    mqtt_reader_t pr = {.pos = r->pos, .end = r->pos + plen};
    r->pos += plen;
    while (pr.pos < pr.end) {
        uint32_t id;
        if (mqtt__r_varint(&pr, &id) < 0) goto malformed;
        const mqtt_prop_def_t *def = id < 0x80 ? mqtt_prop_def((uint8_t)id) : NULL;
        if (!def) goto malformed;
        if (!(def->where & where)) goto protocol;
        if (id != MQTT_PROP_USER_PROPERTY && mqtt_props_has(props, (uint8_t)id)) goto protocol;
        props->present |= 1ull << id;
        uint8_t b = 0;
        uint16_t s = 0;
        uint32_t l = 0;
        gn_bytes_t v = GN_BYTES_NULL, v2;
        switch (def->type) {
        case MQTT_PT_BYTE:
            if (mqtt__r_u8(&pr, &b) < 0) goto malformed;
            break;
        case MQTT_PT_INT16:
            if (mqtt__r_u16(&pr, &s) < 0) goto malformed;
            break;
        case MQTT_PT_INT32:
            if (mqtt__r_u32(&pr, &l) < 0) goto malformed;
            break;
        case MQTT_PT_VARINT:
            if (mqtt__r_varint(&pr, &l) < 0) goto malformed;
            break;
        case MQTT_PT_UTF8:
            if (mqtt__r_str(&pr, &v) < 0) goto malformed;
            break;
        case MQTT_PT_BINARY:
            if (mqtt__r_bin(&pr, &v) < 0) goto malformed;
            break;
        case MQTT_PT_PAIR:
            if (mqtt__r_str(&pr, &v) < 0 || mqtt__r_str(&pr, &v2) < 0) goto malformed;
            props->user_count++;
            break;
        }
        switch (id) {
        case MQTT_PROP_PAYLOAD_FORMAT_INDICATOR:
            if (b > 1) goto protocol;
            props->payload_format = b;
            break;
        case MQTT_PROP_MESSAGE_EXPIRY_INTERVAL:
            props->message_expiry = l;
            break;
        case MQTT_PROP_CONTENT_TYPE:
            props->content_type = v;
            break;
        case MQTT_PROP_RESPONSE_TOPIC:
            if (!mqtt_topic_name_valid(v)) goto protocol;
            props->response_topic = v;
            break;
        case MQTT_PROP_CORRELATION_DATA:
            props->correlation_data = v;
            break;
        case MQTT_PROP_SUBSCRIPTION_IDENTIFIER:
            if (l == 0) goto protocol;
            props->subscription_id = l;
            break;
        case MQTT_PROP_SESSION_EXPIRY_INTERVAL:
            props->session_expiry = l;
            break;
        case MQTT_PROP_AUTHENTICATION_METHOD:
            props->auth_method = v;
            break;
        case MQTT_PROP_AUTHENTICATION_DATA:
            props->auth_data = v;
            break;
        case MQTT_PROP_REQUEST_PROBLEM_INFORMATION:
            if (b > 1) goto protocol;
            props->request_problem_info = b;
            break;
        case MQTT_PROP_WILL_DELAY_INTERVAL:
            props->will_delay = l;
            break;
        case MQTT_PROP_REQUEST_RESPONSE_INFORMATION:
            if (b > 1) goto protocol;
            props->request_response_info = b;
            break;
        case MQTT_PROP_REASON_STRING:
            props->reason_string = v;
            break;
        case MQTT_PROP_RECEIVE_MAXIMUM:
            if (s == 0) goto protocol;
            props->receive_maximum = s;
            break;
        case MQTT_PROP_TOPIC_ALIAS_MAXIMUM:
            props->topic_alias_maximum = s;
            break;
        case MQTT_PROP_TOPIC_ALIAS:
            props->topic_alias = s;
            break;
        case MQTT_PROP_MAXIMUM_PACKET_SIZE:
            if (l == 0) goto protocol;
            props->maximum_packet_size = l;
            break;
        default:
            break;
        }
    }
    return 0;
malformed:
    r->reason = MQTT_RC_MALFORMED_PACKET;
    return r->err = GN_EINVALID_REQUEST;
protocol:
    r->reason = MQTT_RC_PROTOCOL_ERROR;
    return r->err = GN_EINVALID_REQUEST;
}

int mqtt_props_next_user(const mqtt_props_t *p, size_t *pos, gn_bytes_t *name, gn_bytes_t *value)
{
    if (!p->raw.ptr) return 0; /* no properties (before v5): no arithmetic on NULL */
    mqtt_reader_t r = {.pos = p->raw.ptr + *pos, .end = p->raw.ptr + p->raw.len};
    while (r.pos < r.end) {
        uint32_t id;
        if (mqtt__r_varint(&r, &id) < 0) return 0;
        const mqtt_prop_def_t *def = id < 0x80 ? mqtt_prop_def((uint8_t)id) : NULL;
        if (!def) return 0;
        uint8_t b;
        uint16_t s;
        uint32_t l;
        gn_bytes_t v;
        int rc = 0;
        switch (def->type) {
        case MQTT_PT_BYTE:
            rc = mqtt__r_u8(&r, &b);
            break;
        case MQTT_PT_INT16:
            rc = mqtt__r_u16(&r, &s);
            break;
        case MQTT_PT_INT32:
            rc = mqtt__r_u32(&r, &l);
            break;
        case MQTT_PT_VARINT:
            rc = mqtt__r_varint(&r, &l);
            break;
        case MQTT_PT_UTF8:
        case MQTT_PT_BINARY:
            rc = mqtt__r_bin(&r, &v);
            break;
        case MQTT_PT_PAIR:
            if ((rc = mqtt__r_bin(&r, name)) == 0) rc = mqtt__r_bin(&r, value);
            if (rc == 0) {
                *pos = (size_t)(r.pos - p->raw.ptr);
                return 1;
            }
            break;
        }
        if (rc < 0) return 0;
    }
    *pos = p->raw.len;
    return 0;
}

/* ---- output buffer ------------------------------------------------------------- */

#define HEADROOM 5

void mqtt_wbuf_init(mqtt_wbuf_t *w)
{
    memset(w, 0, sizeof(*w));
    w->len = HEADROOM;
}

void mqtt_wbuf_free(mqtt_wbuf_t *w)
{
    free(w->buf);
    memset(w, 0, sizeof(*w));
}

void mqtt__wbuf_reset(mqtt_wbuf_t *w)
{
    w->len = HEADROOM;
    w->err = 0;
}

static uint8_t *wbuf_grow(mqtt_wbuf_t *w, size_t n)
{
    if (w->err) return NULL;
    if (w->len + n > w->cap) {
        size_t cap = w->cap ? w->cap : 256;
        while (cap < w->len + n)
            cap *= 2;
        uint8_t *nb = realloc(w->buf, cap);
        if (!nb) {
            w->err = GN_ENOMEM;
            return NULL;
        }
        w->buf = nb;
        w->cap = cap;
    }
    uint8_t *p = w->buf + w->len;
    w->len += n;
    return p;
}

void mqtt_w_u8(mqtt_wbuf_t *w, uint8_t v)
{
    uint8_t *p = wbuf_grow(w, 1);
    if (p) p[0] = v;
}

void mqtt_w_u16(mqtt_wbuf_t *w, uint16_t v)
{
    uint8_t *p = wbuf_grow(w, 2);
    if (!p) return;
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

void mqtt_w_u32(mqtt_wbuf_t *w, uint32_t v)
{
    uint8_t *p = wbuf_grow(w, 4);
    if (!p) return;
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

size_t mqtt_varint_size(uint32_t v)
{
    return v < 128 ? 1 : v < 16384 ? 2 : v < 2097152 ? 3 : 4;
}

static size_t varint_put(uint8_t *p, uint32_t v)
{
    size_t n = 0;
    do {
        uint8_t b = v & 0x7f;
        v >>= 7;
        p[n++] = (uint8_t)(b | (v ? 0x80 : 0));
    } while (v && n < 4);
    return n;
}

void mqtt_w_varint(mqtt_wbuf_t *w, uint32_t v)
{
    uint8_t *p = wbuf_grow(w, mqtt_varint_size(v));
    if (p) varint_put(p, v);
}

void mqtt_w_bytes(mqtt_wbuf_t *w, const void *src, size_t n)
{
    if (n == 0) return;
    uint8_t *p = wbuf_grow(w, n);
    if (p) memcpy(p, src, n);
}

void mqtt_w_str(mqtt_wbuf_t *w, gn_bytes_t s)
{
    mqtt_w_u16(w, (uint16_t)s.len);
    mqtt_w_bytes(w, s.ptr, s.len);
}

int mqtt_wbuf_finish(mqtt_wbuf_t *w, uint8_t first_byte, const uint8_t **out, size_t *out_len)
{
    if (!w->buf) wbuf_grow(w, 0); /* a body-less packet still needs the headroom */
    if (w->err) return w->err;
    size_t body = w->len - HEADROOM;
    if (body > MQTT_MAX_REMAINING) return GN_ETOOLARGE;
    uint8_t hdr[5];
    hdr[0] = first_byte;
    size_t n = 1 + varint_put(hdr + 1, (uint32_t)body);
    uint8_t *start = w->buf + HEADROOM - n;
    memcpy(start, hdr, n);
    *out = start;
    *out_len = body + n;
    return 0;
}

void mqtt_p_u8(mqtt_wbuf_t *w, uint8_t id, uint8_t v)
{
    mqtt_w_u8(w, id);
    mqtt_w_u8(w, v);
}
void mqtt_p_u16(mqtt_wbuf_t *w, uint8_t id, uint16_t v)
{
    mqtt_w_u8(w, id);
    mqtt_w_u16(w, v);
}
void mqtt_p_u32(mqtt_wbuf_t *w, uint8_t id, uint32_t v)
{
    mqtt_w_u8(w, id);
    mqtt_w_u32(w, v);
}
void mqtt_p_varint(mqtt_wbuf_t *w, uint8_t id, uint32_t v)
{
    mqtt_w_u8(w, id);
    mqtt_w_varint(w, v);
}
void mqtt_p_str(mqtt_wbuf_t *w, uint8_t id, gn_bytes_t s)
{
    mqtt_w_u8(w, id);
    mqtt_w_str(w, s);
}
void mqtt_p_pair(mqtt_wbuf_t *w, gn_bytes_t name, gn_bytes_t value)
{
    mqtt_w_u8(w, MQTT_PROP_USER_PROPERTY);
    mqtt_w_str(w, name);
    mqtt_w_str(w, value);
}

void mqtt_w_props(mqtt_wbuf_t *w, const mqtt_wbuf_t *props)
{
    if (!props || props->len <= HEADROOM) {
        mqtt_w_u8(w, 0);
        return;
    }
    if (props->err) {
        w->err = props->err;
        return;
    }
    mqtt_w_varint(w, (uint32_t)(props->len - HEADROOM));
    mqtt_w_bytes(w, props->buf + HEADROOM, props->len - HEADROOM);
}
