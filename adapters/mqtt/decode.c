/* SPDX-License-Identifier: Apache-2.0 */
/* Decoders for every packet a client sends (CONNECT, PUBLISH, PUBACK, PUBREC, PUBREL,
 * PUBCOMP, SUBSCRIBE, UNSUBSCRIBE, PINGREQ, DISCONNECT, AUTH), one function each,
 * behind mqtt_packet_decode: > 0 consumed, GN_EAGAIN need more, < 0 protocol error with
 * a reason code. Every read is bounds-checked. Pure functions: any thread. */
#include <string.h>

#include "codec.h"
#include "codec_internal.h"
#include "ganglion/error.h"

int64_t mqtt_frame_peek(const uint8_t *p, size_t len, uint32_t *remaining, size_t *hdr_len)
{
    if (len < 2) return GN_EAGAIN;
    size_t used;
    int rc = mqtt__varint_read(p + 1, len - 1, remaining, &used);
    if (rc < 0) return rc;
    *hdr_len = 1 + used;
    int64_t total = (int64_t)*hdr_len + *remaining;
    return (int64_t)len >= total ? total : GN_EAGAIN;
}

#define FAIL(rsn)                                                                                  \
    do {                                                                                           \
        if (!r->reason) r->reason = (rsn);                                                         \
        return GN_EINVALID_REQUEST;                                                                \
    } while (0)

static int decode_connect(mqtt_reader_t *r, mqtt_packet_t *pkt)
{
    if (mqtt__r_bin(r, &pkt->protocol_name) < 0) FAIL(MQTT_RC_MALFORMED_PACKET);
    if (mqtt__r_u8(r, &pkt->protocol_level) < 0) FAIL(MQTT_RC_MALFORMED_PACKET);
    int v = pkt->protocol_level;
    bool name_mqtt = pkt->protocol_name.len == 4 && !memcmp(pkt->protocol_name.ptr, "MQTT", 4);
    bool name_31 = pkt->protocol_name.len == 6 && !memcmp(pkt->protocol_name.ptr, "MQIsdp", 6);
    if (!((name_mqtt && (v == MQTT_V311 || v == MQTT_V5)) || (name_31 && v == MQTT_V31)))
        FAIL(MQTT_RC_UNSUPPORTED_PROTOCOL_VERSION);
    uint8_t f;
    if (mqtt__r_u8(r, &f) < 0) FAIL(MQTT_RC_MALFORMED_PACKET);
    pkt->connect_flags = f;
    if (f & 0x01) FAIL(MQTT_RC_MALFORMED_PACKET); /* reserved */
    uint8_t wq = MQTT_CF_WILL_QOS(f);
    if (wq == 3) FAIL(MQTT_RC_MALFORMED_PACKET);
    if (!(f & MQTT_CF_WILL) && (wq || (f & MQTT_CF_WILL_RETAIN))) FAIL(MQTT_RC_MALFORMED_PACKET);
    if (v != MQTT_V5 && (f & MQTT_CF_PASSWORD) && !(f & MQTT_CF_USERNAME))
        FAIL(MQTT_RC_MALFORMED_PACKET);
    if (mqtt__r_u16(r, &pkt->keep_alive) < 0) FAIL(MQTT_RC_MALFORMED_PACKET);
    if (v == MQTT_V5 && mqtt__props_read(r, MQTT_IN(MQTT_CONNECT), &pkt->props) < 0)
        FAIL(MQTT_RC_MALFORMED_PACKET);
    if (mqtt__r_str(r, &pkt->client_id) < 0) FAIL(MQTT_RC_MALFORMED_PACKET);
    if (f & MQTT_CF_WILL) {
        if (v == MQTT_V5 && mqtt__props_read(r, MQTT_IN_WILL, &pkt->will_props) < 0)
            FAIL(MQTT_RC_MALFORMED_PACKET);
        if (mqtt__r_str(r, &pkt->will_topic) < 0) FAIL(MQTT_RC_MALFORMED_PACKET);
        if (!mqtt_topic_name_valid(pkt->will_topic)) FAIL(MQTT_RC_TOPIC_NAME_INVALID);
        if (mqtt__r_bin(r, &pkt->will_payload) < 0) FAIL(MQTT_RC_MALFORMED_PACKET);
    }
    if (f & MQTT_CF_USERNAME) {
        if (mqtt__r_str(r, &pkt->username) < 0) FAIL(MQTT_RC_MALFORMED_PACKET);
    }
    if (f & MQTT_CF_PASSWORD) {
        if (mqtt__r_bin(r, &pkt->password) < 0) FAIL(MQTT_RC_MALFORMED_PACKET);
    }
    if (r->pos != r->end) FAIL(MQTT_RC_MALFORMED_PACKET);
    return 0;
}

static int decode_publish(mqtt_reader_t *r, mqtt_packet_t *pkt, int version)
{
    pkt->qos = (pkt->flags >> 1) & 3;
    pkt->dup = pkt->flags & 0x08;
    pkt->retain = pkt->flags & 0x01;
    if (pkt->qos == 3) FAIL(MQTT_RC_MALFORMED_PACKET);
    if (pkt->qos == 0 && pkt->dup) FAIL(MQTT_RC_MALFORMED_PACKET);
    if (mqtt__r_str(r, &pkt->topic) < 0) FAIL(MQTT_RC_MALFORMED_PACKET);
    if (pkt->qos > 0) {
        if (mqtt__r_u16(r, &pkt->packet_id) < 0) FAIL(MQTT_RC_MALFORMED_PACKET);
        if (pkt->packet_id == 0) FAIL(MQTT_RC_PROTOCOL_ERROR);
    }
    if (version == MQTT_V5) {
        if (mqtt__props_read(r, MQTT_IN(MQTT_PUBLISH), &pkt->props) < 0)
            FAIL(MQTT_RC_MALFORMED_PACKET);
        /* a client never sends a subscription identifier */
        if (mqtt_props_has(&pkt->props, MQTT_PROP_SUBSCRIPTION_IDENTIFIER))
            FAIL(MQTT_RC_PROTOCOL_ERROR);
    }
    bool alias = version == MQTT_V5 && mqtt_props_has(&pkt->props, MQTT_PROP_TOPIC_ALIAS);
    if (pkt->topic.len == 0) {
        if (!alias) FAIL(version == MQTT_V5 ? MQTT_RC_PROTOCOL_ERROR : MQTT_RC_TOPIC_NAME_INVALID);
    } else if (!mqtt_topic_name_valid(pkt->topic)) {
        FAIL(MQTT_RC_TOPIC_NAME_INVALID);
    }
    pkt->payload.ptr = r->pos;
    pkt->payload.len = (size_t)(r->end - r->pos);
    r->pos = r->end;
    return 0;
}

static int decode_ack(mqtt_reader_t *r, mqtt_packet_t *pkt, int version)
{
    if (mqtt__r_u16(r, &pkt->packet_id) < 0) FAIL(MQTT_RC_MALFORMED_PACKET);
    if (pkt->packet_id == 0) FAIL(MQTT_RC_PROTOCOL_ERROR);
    if (version == MQTT_V5) {
        if (r->pos < r->end && mqtt__r_u8(r, &pkt->reason) < 0) FAIL(MQTT_RC_MALFORMED_PACKET);
        if (r->pos < r->end && mqtt__props_read(r, MQTT_IN(pkt->type), &pkt->props) < 0)
            FAIL(MQTT_RC_MALFORMED_PACKET);
    }
    if (r->pos != r->end) FAIL(MQTT_RC_MALFORMED_PACKET);
    return 0;
}

static int decode_subscribe(mqtt_reader_t *r, mqtt_packet_t *pkt, int version)
{
    if (mqtt__r_u16(r, &pkt->packet_id) < 0) FAIL(MQTT_RC_MALFORMED_PACKET);
    if (pkt->packet_id == 0) FAIL(MQTT_RC_PROTOCOL_ERROR);
    if (version == MQTT_V5 && mqtt__props_read(r, MQTT_IN(pkt->type), &pkt->props) < 0)
        FAIL(MQTT_RC_MALFORMED_PACKET);
    pkt->entries.ptr = r->pos;
    pkt->entries.len = (size_t)(r->end - r->pos);
    while (r->pos < r->end) {
        gn_bytes_t filter;
        if (mqtt__r_str(r, &filter) < 0) FAIL(MQTT_RC_MALFORMED_PACKET);
        if (pkt->type == MQTT_SUBSCRIBE) {
            uint8_t opt;
            if (mqtt__r_u8(r, &opt) < 0) FAIL(MQTT_RC_MALFORMED_PACKET);
            if ((opt & 3) == 3) FAIL(MQTT_RC_MALFORMED_PACKET);
            if (version == MQTT_V5) {
                if (opt & 0xc0) FAIL(MQTT_RC_MALFORMED_PACKET);
                if (((opt >> 4) & 3) == 3) FAIL(MQTT_RC_PROTOCOL_ERROR);
            } else if (opt & 0xfc) {
                FAIL(MQTT_RC_MALFORMED_PACKET);
            }
        }
        pkt->entry_count++;
    }
    if (pkt->entry_count == 0) FAIL(MQTT_RC_PROTOCOL_ERROR);
    return 0;
}

int mqtt_sub_next(const mqtt_packet_t *pkt, int version, size_t *pos, mqtt_sub_entry_t *e)
{
    if (!pkt->entries.ptr) return 0; /* not a (UN)SUBSCRIBE: no arithmetic on NULL */
    mqtt_reader_t r = {.pos = pkt->entries.ptr + *pos, .end = pkt->entries.ptr + pkt->entries.len};
    if (r.pos >= r.end) return 0;
    memset(e, 0, sizeof(*e));
    if (mqtt__r_bin(&r, &e->filter) < 0) return 0;
    if (pkt->type == MQTT_SUBSCRIBE) {
        uint8_t opt;
        if (mqtt__r_u8(&r, &opt) < 0) return 0;
        e->qos = opt & 3;
        if (version == MQTT_V5) {
            e->no_local = opt & 0x04;
            e->retain_as_published = opt & 0x08;
            e->retain_handling = (opt >> 4) & 3;
        }
    }
    *pos = (size_t)(r.pos - pkt->entries.ptr);
    return 1;
}

static int decode_disconnect(mqtt_reader_t *r, mqtt_packet_t *pkt, int version)
{
    if (version == MQTT_V5) {
        if (r->pos < r->end && mqtt__r_u8(r, &pkt->reason) < 0) FAIL(MQTT_RC_MALFORMED_PACKET);
        if (r->pos < r->end && mqtt__props_read(r, MQTT_IN(pkt->type), &pkt->props) < 0)
            FAIL(MQTT_RC_MALFORMED_PACKET);
    }
    if (r->pos != r->end) FAIL(MQTT_RC_MALFORMED_PACKET);
    return 0;
}

/* The fixed-header flags each type must carry (MQTT 2.1.3); PUBLISH's are its own. */
static const int8_t required_flags[16] = {
    [MQTT_CONNECT] = 0,    [MQTT_PUBACK] = 0,    [MQTT_PUBREC] = 0,      [MQTT_PUBREL] = 2,
    [MQTT_PUBCOMP] = 0,    [MQTT_SUBSCRIBE] = 2, [MQTT_UNSUBSCRIBE] = 2, [MQTT_PINGREQ] = 0,
    [MQTT_DISCONNECT] = 0, [MQTT_AUTH] = 0,
};

int64_t mqtt_packet_decode(const uint8_t *p, size_t len, int version, uint32_t max_packet,
                           mqtt_packet_t *pkt, uint8_t *reason)
{
    uint32_t remaining = 0;
    size_t hdr_len = 0;
    *reason = 0;
    int64_t total = mqtt_frame_peek(p, len, &remaining, &hdr_len);
    if (total == GN_EINVALID_REQUEST) {
        *reason = MQTT_RC_MALFORMED_PACKET;
        return total;
    }
    if (total == GN_EAGAIN && hdr_len == 0) return GN_EAGAIN;
    /* known size: refuse an oversized packet before buffering it */
    if (max_packet && (uint64_t)hdr_len + remaining > max_packet) {
        *reason = MQTT_RC_PACKET_TOO_LARGE;
        return GN_ETOOLARGE;
    }
    if (total < 0) return total;

    memset(pkt, 0, sizeof(*pkt));
    pkt->type = p[0] >> 4;
    pkt->flags = p[0] & 0x0f;
    pkt->remaining = remaining;
    mqtt_reader_t r = {.pos = p + hdr_len, .end = p + total};
    int rc = GN_EINVALID_REQUEST;
    uint8_t t = pkt->type;

    if (version == 0 && t != MQTT_CONNECT) {
        r.reason = MQTT_RC_PROTOCOL_ERROR; /* the first packet must be CONNECT */
        goto out;
    }
    if (t != MQTT_PUBLISH && pkt->flags != required_flags[t]) {
        r.reason = MQTT_RC_MALFORMED_PACKET;
        goto out;
    }
    switch (t) {
    case MQTT_CONNECT:
        if (version != 0) {
            r.reason = MQTT_RC_PROTOCOL_ERROR; /* a second CONNECT */
            goto out;
        }
        rc = decode_connect(&r, pkt);
        break;
    case MQTT_PUBLISH:
        rc = decode_publish(&r, pkt, version);
        break;
    case MQTT_PUBACK:
    case MQTT_PUBREC:
    case MQTT_PUBREL:
    case MQTT_PUBCOMP:
        rc = decode_ack(&r, pkt, version);
        break;
    case MQTT_SUBSCRIBE:
    case MQTT_UNSUBSCRIBE:
        rc = decode_subscribe(&r, pkt, version);
        break;
    case MQTT_PINGREQ:
        rc = remaining == 0 ? 0 : GN_EINVALID_REQUEST;
        if (rc) r.reason = MQTT_RC_MALFORMED_PACKET;
        break;
    case MQTT_DISCONNECT:
        rc = decode_disconnect(&r, pkt, version);
        break;
    case MQTT_AUTH:
        if (version != MQTT_V5) {
            r.reason = MQTT_RC_PROTOCOL_ERROR;
            goto out;
        }
        rc = decode_disconnect(&r, pkt, version); /* same shape: reason, properties */
        break;
    default: /* 0, and the packets only a server sends */
        r.reason = MQTT_RC_PROTOCOL_ERROR;
        goto out;
    }
out:
    if (rc < 0) {
        *reason = r.reason ? r.reason : MQTT_RC_MALFORMED_PACKET;
        return GN_EINVALID_REQUEST;
    }
    return total;
}
