/* SPDX-License-Identifier: Apache-2.0 */
/* The four codecs Kafka producers use for the records blob of a batch: gzip
 * (zlib), snappy (raw, or xerial snappy-java framing), lz4 (frame format) and
 * zstd. Decompression is bounded by the caller's max_out: a blob that expands
 * past it is refused as corrupt (a decompression bomb). Pure functions, any thread. */
#include <isa-l/igzip_lib.h>
#include <limits.h>
#include <lz4frame.h>
#include <snappy-c.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>
#include <zstd_errors.h>

#include "ganglion/error.h"
#include "ganglion/record.h"
#include "record/wire.h"

/* A growable output buffer that never grows past max + 1 bytes: reaching max + 1
 * proves the blob expands beyond the bound, without guessing at stream ends. */
typedef struct outbuf {
    uint8_t *p;
    size_t len;
    size_t cap;
    size_t limit; /* max_out + 1 */
} outbuf_t;

static int outbuf_init(outbuf_t *o, size_t max_out, size_t hint)
{
    o->len = 0;
    o->limit = max_out == SIZE_MAX ? SIZE_MAX : max_out + 1;
    o->cap = hint < 256 ? 256 : hint;
    if (o->cap > o->limit) o->cap = o->limit;
    o->p = malloc(o->cap);
    return o->p ? 0 : GN_ENOMEM;
}

/* Makes room for more output; GN_ECORRUPT once the bound is reached. */
static int outbuf_grow(outbuf_t *o)
{
    size_t cap;
    uint8_t *p;

    if (o->cap >= o->limit) return GN_ECORRUPT;
    cap = o->cap > o->limit / 2 ? o->limit : o->cap * 2;
    p = realloc(o->p, cap);
    if (!p) return GN_ENOMEM;
    o->p = p;
    o->cap = cap;
    return 0;
}

/* A first guess at the decompressed size, to avoid a chain of reallocs: the exact
 * size when the blob says it (zstd frame header, snappy preamble), else 4x the
 * input (Kafka blobs typically shrink 2-5x) but at least 16 KiB (Java's batch.size). */
#define HINT_FLOOR (16u << 10)
static size_t size_hint(gn_compression_t codec, const uint8_t *in, size_t in_len)
{
    size_t n;

    if (codec == GN_COMPRESSION_ZSTD) {
        unsigned long long zn = ZSTD_getFrameContentSize(in, in_len);
        /* a header may lie: trust it up to a ratio that real data rarely passes */
        if (zn != ZSTD_CONTENTSIZE_UNKNOWN && zn != ZSTD_CONTENTSIZE_ERROR &&
            in_len < SIZE_MAX / 1024 && zn < in_len * 1024)
            return (size_t)zn + 1; /* +1: the end of the stream is seen without a grow */
    }
    /* raw snappy expands at most ~22x; xerial framing fails the preamble or the ratio */
    if (codec == GN_COMPRESSION_SNAPPY &&
        snappy_uncompressed_length((const char *)in, in_len, &n) == SNAPPY_OK &&
        in_len < SIZE_MAX / 32 && n <= in_len * 32)
        return n;
    n = in_len > SIZE_MAX / 4 ? SIZE_MAX : in_len * 4;
    return n < HINT_FLOOR ? HINT_FLOOR : n;
}

/* ---- gzip ---------------------------------------------------------------------- */

static int gzip_decompress(const uint8_t *in, size_t in_len, outbuf_t *o)
{
    z_stream zs;
    int zrc;
    int rc;

    memset(&zs, 0, sizeof(zs));
    if (in_len > UINT_MAX) return GN_ECORRUPT;
    if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) /* gzip wrapper only */
        return GN_ENOMEM;
    zs.next_in = (Bytef *)in;
    zs.avail_in = (uInt)in_len;
    for (;;) {
        if (o->len == o->cap && (rc = outbuf_grow(o)) < 0) goto out;
        zs.next_out = o->p + o->len;
        zs.avail_out = (uInt)((o->cap - o->len) > UINT_MAX ? UINT_MAX : o->cap - o->len);
        uInt before = zs.avail_out;
        zrc = inflate(&zs, Z_NO_FLUSH);
        o->len += before - zs.avail_out;
        if (zrc == Z_STREAM_END) {
            if (zs.avail_in == 0) break;
            /* concatenated gzip members, as Java's GZIPInputStream reads them */
            if (inflateReset(&zs) != Z_OK) {
                rc = GN_ECORRUPT;
                goto out;
            }
            continue;
        }
        if (zrc == Z_BUF_ERROR && zs.avail_out != 0) {
            rc = GN_ECORRUPT; /* input ended inside the stream */
            goto out;
        }
        if (zrc != Z_OK && zrc != Z_BUF_ERROR) {
            rc = zrc == Z_MEM_ERROR ? GN_ENOMEM : GN_ECORRUPT;
            goto out;
        }
    }
    rc = 0;
out:
    inflateEnd(&zs);
    return rc;
}

/* ISA-L's igzip at level 1 (the "fast gzip" of DESIGN.md): several times zlib's
 * speed for a slightly larger blob; any gzip reader, zlib included, reads it. */
static int gzip_compress(const uint8_t *in, size_t in_len, uint8_t **out, size_t *out_len)
{
    struct isal_zstream zs;
    uint8_t *level_buf = NULL;
    uint8_t *buf = NULL;
    size_t cap;
    int rc;

    if (in_len > UINT32_MAX / 2) return GN_ETOOLARGE;
    level_buf = malloc(ISAL_DEF_LVL1_DEFAULT);
    cap = in_len + in_len / 8 + 1024; /* room for stored blocks and the gzip frame */
    buf = malloc(cap);
    if (!level_buf || !buf) {
        rc = GN_ENOMEM;
        goto out;
    }
    isal_deflate_init(&zs);
    zs.gzip_flag = IGZIP_GZIP;
    zs.level = 1;
    zs.level_buf = level_buf;
    zs.level_buf_size = ISAL_DEF_LVL1_DEFAULT;
    zs.end_of_stream = 1;
    zs.flush = NO_FLUSH;
    zs.next_in = (uint8_t *)in;
    zs.avail_in = (uint32_t)in_len;
    zs.next_out = buf;
    zs.avail_out = (uint32_t)cap;
    while (zs.internal_state.state != ZSTATE_END) {
        if (isal_deflate(&zs) != COMP_OK) {
            rc = GN_ENOMEM;
            goto out;
        }
        if (zs.internal_state.state != ZSTATE_END && zs.avail_out == 0) {
            size_t used = cap - zs.avail_out;
            uint8_t *p;
            if (cap > UINT32_MAX / 2) {
                rc = GN_ETOOLARGE;
                goto out;
            }
            if (!(p = realloc(buf, cap * 2))) {
                rc = GN_ENOMEM; /* buf is still ours: freed below */
                goto out;
            }
            buf = p;
            zs.next_out = buf + used;
            zs.avail_out = (uint32_t)cap;
            cap *= 2;
        }
    }
    *out = buf;
    *out_len = zs.total_out;
    buf = NULL;
    rc = 0;
out:
    free(buf);
    free(level_buf);
    return rc;
}

/* ---- snappy -------------------------------------------------------------------- */

/* snappy-java (xerial) framing, what the Java client writes: magic, then int32
 * version and int32 compatible-version, then blocks of int32 BE length + raw snappy. */
static const uint8_t xerial_magic[8] = {0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0};
#define XERIAL_HEADER_SIZE 16

static int snappy_raw_append(const uint8_t *in, size_t in_len, outbuf_t *o)
{
    size_t n;

    if (snappy_uncompressed_length((const char *)in, in_len, &n) != SNAPPY_OK) return GN_ECORRUPT;
    if (n >= o->limit - o->len) return GN_ECORRUPT; /* would pass max_out */
    while (o->cap - o->len < n) {
        int rc = outbuf_grow(o);
        if (rc < 0) return rc;
    }
    if (snappy_uncompress((const char *)in, in_len, (char *)o->p + o->len, &n) != SNAPPY_OK)
        return GN_ECORRUPT;
    o->len += n;
    return 0;
}

static int snappy_decompress(const uint8_t *in, size_t in_len, outbuf_t *o)
{
    size_t pos = XERIAL_HEADER_SIZE;

    if (in_len < XERIAL_HEADER_SIZE || memcmp(in, xerial_magic, sizeof(xerial_magic)) != 0)
        return snappy_raw_append(in, in_len, o);
    while (pos < in_len) {
        uint32_t n;
        int rc;
        if (in_len - pos < 4) return GN_ECORRUPT;
        n = gn__be32(in + pos);
        pos += 4;
        if (n > in_len - pos) return GN_ECORRUPT;
        if ((rc = snappy_raw_append(in + pos, n, o)) < 0) return rc;
        pos += n;
    }
    return 0;
}

/* Raw snappy, as librdkafka writes it; Java's SnappyInputStream reads raw too. */
static int snappy_compress_raw(const uint8_t *in, size_t in_len, uint8_t **out, size_t *out_len)
{
    size_t n = snappy_max_compressed_length(in_len);
    uint8_t *buf = malloc(n ? n : 1);

    if (!buf) return GN_ENOMEM;
    if (snappy_compress((const char *)in, in_len, (char *)buf, &n) != SNAPPY_OK) {
        free(buf);
        return GN_ENOMEM;
    }
    *out = buf;
    *out_len = n;
    return 0;
}

/* ---- lz4 ----------------------------------------------------------------------- */

static int lz4_decompress(const uint8_t *in, size_t in_len, outbuf_t *o)
{
    LZ4F_dctx *dctx = NULL;
    size_t pos = 0;
    size_t hint = 1;
    int rc;

    if (LZ4F_isError(LZ4F_createDecompressionContext(&dctx, LZ4F_VERSION))) return GN_ENOMEM;
    while (hint != 0) {
        size_t src_n = in_len - pos;
        size_t dst_n;
        if (o->len == o->cap && (rc = outbuf_grow(o)) < 0) goto out;
        dst_n = o->cap - o->len;
        hint = LZ4F_decompress(dctx, o->p + o->len, &dst_n, in + pos, &src_n, NULL);
        if (LZ4F_isError(hint)) {
            rc = GN_ECORRUPT;
            goto out;
        }
        pos += src_n;
        o->len += dst_n;
        if (hint != 0 && pos == in_len && dst_n == 0 && o->len < o->cap) {
            rc = GN_ECORRUPT; /* input ended inside the frame */
            goto out;
        }
        if (hint == 0 && pos < in_len) {
            /* another frame follows: the context is ready for it */
            hint = 1;
        }
    }
    rc = 0;
out:
    LZ4F_freeDecompressionContext(dctx);
    return rc;
}

static int lz4_compress(const uint8_t *in, size_t in_len, uint8_t **out, size_t *out_len)
{
    /* independent 64 KiB blocks, no content size: what librdkafka writes and what
     * Java's KafkaLZ4BlockInputStream reads */
    LZ4F_preferences_t prefs;
    size_t bound;
    uint8_t *buf;
    size_t n;

    memset(&prefs, 0, sizeof(prefs));
    prefs.frameInfo.blockSizeID = LZ4F_max64KB;
    prefs.frameInfo.blockMode = LZ4F_blockIndependent;
    bound = LZ4F_compressFrameBound(in_len, &prefs);
    buf = malloc(bound);
    if (!buf) return GN_ENOMEM;
    n = LZ4F_compressFrame(buf, bound, in, in_len, &prefs);
    if (LZ4F_isError(n)) {
        free(buf);
        return GN_ENOMEM;
    }
    *out = buf;
    *out_len = n;
    return 0;
}

/* ---- zstd ---------------------------------------------------------------------- */

/* Streaming, because producers (librdkafka, Java) may omit the content size. */
static int zstd_decompress(const uint8_t *in, size_t in_len, outbuf_t *o)
{
    ZSTD_DStream *ds = ZSTD_createDStream();
    ZSTD_inBuffer ib = {in, in_len, 0};
    size_t zrc = 1;
    int rc;

    if (!ds) return GN_ENOMEM;
    ZSTD_initDStream(ds);
    while (ib.pos < ib.size || zrc != 0) {
        ZSTD_outBuffer ob;
        size_t before_in = ib.pos;
        if (o->len == o->cap && (rc = outbuf_grow(o)) < 0) goto out;
        ob.dst = o->p + o->len;
        ob.size = o->cap - o->len;
        ob.pos = 0;
        zrc = ZSTD_decompressStream(ds, &ob, &ib);
        if (ZSTD_isError(zrc)) {
            rc = ZSTD_getErrorCode(zrc) == ZSTD_error_memory_allocation ? GN_ENOMEM : GN_ECORRUPT;
            goto out;
        }
        o->len += ob.pos;
        if (zrc != 0 && ib.pos == ib.size && ob.pos < ob.size && before_in == ib.pos) {
            rc = GN_ECORRUPT; /* input ended inside a frame */
            goto out;
        }
    }
    rc = 0;
out:
    ZSTD_freeDStream(ds);
    return rc;
}

static int zstd_compress(const uint8_t *in, size_t in_len, uint8_t **out, size_t *out_len)
{
    size_t bound = ZSTD_compressBound(in_len);
    uint8_t *buf = malloc(bound);
    size_t n;

    if (!buf) return GN_ENOMEM;
    n = ZSTD_compress(buf, bound, in, in_len, ZSTD_CLEVEL_DEFAULT);
    if (ZSTD_isError(n)) {
        free(buf);
        return GN_ENOMEM;
    }
    *out = buf;
    *out_len = n;
    return 0;
}

/* ---- dispatch ------------------------------------------------------------------ */

typedef struct codec_ops {
    int (*decompress)(const uint8_t *in, size_t in_len, outbuf_t *o);
    int (*compress)(const uint8_t *in, size_t in_len, uint8_t **out, size_t *out_len);
} codec_ops_t;

static const codec_ops_t codecs[] = {
    [GN_COMPRESSION_GZIP] = {gzip_decompress, gzip_compress},
    [GN_COMPRESSION_SNAPPY] = {snappy_decompress, snappy_compress_raw},
    [GN_COMPRESSION_LZ4] = {lz4_decompress, lz4_compress},
    [GN_COMPRESSION_ZSTD] = {zstd_decompress, zstd_compress},
};

static const codec_ops_t *codec_find(gn_compression_t codec)
{
    if ((unsigned)codec >= sizeof(codecs) / sizeof(codecs[0]) || !codecs[codec].compress)
        return NULL;
    return &codecs[codec];
}

int gn_decompress(gn_compression_t codec, const uint8_t *in, size_t in_len, size_t max_out,
                  uint8_t **out, size_t *out_len)
{
    const codec_ops_t *ops = codec_find(codec);
    outbuf_t o = {0};
    int rc;

    if (!ops) return GN_EUNSUPPORTED_COMPRESSION;
    if ((rc = outbuf_init(&o, max_out, size_hint(codec, in, in_len))) < 0) return rc;
    if ((rc = ops->decompress(in, in_len, &o)) < 0) goto out;
    if (o.len > max_out) {
        rc = GN_ECORRUPT;
        goto out;
    }
    *out = o.p;
    *out_len = o.len;
    o.p = NULL;
    rc = 0;
out:
    free(o.p);
    return rc;
}

int gn_compress(gn_compression_t codec, const uint8_t *in, size_t in_len, uint8_t **out,
                size_t *out_len)
{
    const codec_ops_t *ops = codec_find(codec);

    if (!ops) return GN_EUNSUPPORTED_COMPRESSION;
    return ops->compress(in, in_len, out, out_len);
}
