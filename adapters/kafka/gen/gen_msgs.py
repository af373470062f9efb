#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# Generates the Kafka message codecs (kafka_msgs.h / kafka_msgs.c) from Apache Kafka's
# JSON message schemas, as Redpanda does. Run by hand when the API set changes:
#   python3 adapters/kafka/gen/gen_msgs.py /path/to/kafka/message adapters/kafka/gen
# The output is committed; the build never reads the schemas.
# Tagged fields are skipped on decode and never written (every response field we send is
# positional in the versions we advertise); see docs/kafka.md.
import json
import os
import re
import sys

MESSAGES = [
    "Produce", "Fetch", "ListOffsets", "Metadata", "FindCoordinator", "ApiVersions",
    "CreateTopics", "DeleteTopics", "DeleteRecords", "InitProducerId", "DescribeConfigs",
    "AlterConfigs", "DescribeLogDirs", "CreatePartitions", "IncrementalAlterConfigs",
    "DescribeCluster", "OffsetForLeaderEpoch", "SaslHandshake", "SaslAuthenticate",
    "DescribeAcls", "CreateAcls", "DeleteAcls",
]

PRIM = {
    "int8": ("int8_t", "kr_int8(r)", "kw_int8(w, {v})"),
    "int16": ("int16_t", "kr_int16(r)", "kw_int16(w, {v})"),
    "int32": ("int32_t", "kr_int32(r)", "kw_int32(w, {v})"),
    "int64": ("int64_t", "kr_int64(r)", "kw_int64(w, {v})"),
    "uint16": ("uint16_t", "kr_uint16(r)", "kw_uint16(w, {v})"),
    "uint32": ("uint32_t", "kr_uint32(r)", "kw_uint32(w, {v})"),
    "float64": ("double", "kr_float64(r)", "kw_float64(w, {v})"),
    "bool": ("bool", "kr_bool(r)", "kw_bool(w, {v})"),
    "string": ("gn_bytes_t", "kr_string(r, flex)", "kw_string(w, flex, {v})"),
    "bytes": ("gn_bytes_t", "kr_bytes(r, flex)", "kw_bytes(w, flex, {v})"),
}
PRIM_ARRAYS = {"int32": "kafka_int32_array_t", "int64": "kafka_int64_array_t",
               "string": "kafka_string_array_t"}


def load(path):
    with open(path) as f:
        text = re.sub(r"//.*", "", f.read())
    return json.loads(text)


def vrange(s):
    """'0+' -> (0, None); '3-5' -> (3, 5); 'none' -> None."""
    if s is None or s == "none":
        return None
    s = s.strip()
    if s.endswith("+"):
        return (int(s[:-1]), None)
    if "-" in s:
        a, b = s.split("-")
        return (int(a), int(b))
    return (int(s), int(s))


def cond(rng, lo, hi):
    """C condition for version in rng, given the message's valid range [lo, hi]."""
    if rng is None:
        return "0"
    a, b = rng
    parts = []
    if a > lo:
        parts.append("v >= %d" % a)
    if b is not None and b < hi:
        parts.append("v <= %d" % b)
    return " && ".join(parts) if parts else "1"


class Gen:
    def __init__(self):
        self.h = []
        self.c = []

    def struct_name(self, msg, sname):
        return "kafka_%s_%s" % (msg, sname) if sname != msg else "kafka_%s" % msg

    def collect(self, msg, sname, fields, common, out):
        """Post-order list of (cname, fields) so nested structs are declared first."""
        for f in fields:
            if "tag" in f:
                continue
            t = f["type"]
            inner = t[2:] if t.startswith("[]") else t
            if inner in PRIM or inner in ("records", "uuid"):
                continue
            sub = f.get("fields")
            if sub is None:
                sub = common[inner]
                key = self.struct_name(msg, inner)
                if any(k == key for k, _ in out):
                    continue
            self.collect(msg, inner, sub, common, out)
            out.append((self.struct_name(msg, inner), sub))

    def ctype(self, msg, f):
        t = f["type"]
        if t.startswith("[]"):
            inner = t[2:]
            if inner in PRIM_ARRAYS:
                return PRIM_ARRAYS[inner]
            return self.struct_name(msg, inner) + "_array_t"
        if t in PRIM:
            return PRIM[t][0]
        if t == "uuid":
            return "uint8_t"
        if t == "records":
            return "kafka_records_t"
        return self.struct_name(msg, t) + "_t"

    def default(self, f):
        t = f["type"]
        d = f.get("default")
        if t.startswith("[]") or t in ("records", "uuid"):
            return None
        if t in ("string", "bytes"):
            if d == "null":
                return "GN_BYTES_NULL"
            if d:
                return 'GN_BYTES_STR("%s")' % d
            return 'GN_BYTES_STR("")'
        if t == "bool":
            return "true" if d == "true" else None
        if t in PRIM:
            if d is None or d == "":
                return None
            v = int(d, 0) if isinstance(d, str) else int(d)
            return str(v) if v != 0 else None
        return "struct"

    def emit_message(self, schema):
        msg = schema["name"]
        lo, hi = vrange(schema["validVersions"])
        flex = vrange(schema["flexibleVersions"])
        flex_min = flex[0] if flex else -1
        common = {c["name"]: c["fields"] for c in schema.get("commonStructs", [])}
        structs = []
        self.collect(msg, msg, schema["fields"], common, structs)
        structs.append((self.struct_name(msg, msg), schema["fields"]))
        H, C = self.h, self.c
        H.append("/* %s: versions %d-%d, flexible %s */" % (msg, lo, hi, schema["flexibleVersions"]))
        H.append("#define KAFKA_%s_MIN %d" % (msg, lo))
        H.append("#define KAFKA_%s_MAX %d" % (msg, hi))
        H.append("#define KAFKA_%s_FLEX_MIN %d" % (msg, flex_min if flex_min >= 0 else 32767))
        for cname, fields in structs:
            H.append("typedef struct %s %s_t;" % (cname, cname))
            H.append("typedef struct %s_array { %s_t *items; int32_t count; bool is_null; } %s_array_t;"
                     % (cname, cname, cname))
        for cname, fields in structs:
            H.append("struct %s {" % cname)
            for f in fields:
                if "tag" in f:
                    continue
                ct = self.ctype(msg, f)
                if f["type"] == "uuid":
                    H.append("    uint8_t %s[16];" % f["name"])
                else:
                    H.append("    %s %s;" % (ct, f["name"]))
            if not [f for f in fields if "tag" not in f]:
                H.append("    char unused_;")
            H.append("};")
        H.append("void kafka_%s_init(kafka_%s_t *m);" % (msg, msg))
        H.append("int kafka_%s_decode(kafka_reader_t *r, int16_t v, kafka_arena_t *a, kafka_%s_t *m);"
                 % (msg, msg))
        H.append("void kafka_%s_encode(kafka_writer_t *w, int16_t v, kafka_%s_t *m);" % (msg, msg))
        H.append("")

        for cname, fields in structs:
            C.append("static void init_%s(%s_t *m)" % (cname, cname))
            C.append("{")
            C.append("    memset(m, 0, sizeof *m);")
            for f in fields:
                if "tag" in f:
                    continue
                d = self.default(f)
                if d == "struct":
                    C.append("    init_%s(&m->%s);" % (self.struct_name(msg, f["type"]), f["name"]))
                elif d:
                    C.append("    m->%s = %s;" % (f["name"], d))
            C.append("}")
            C.append("")
            # decode
            C.append("static void decode_%s(kafka_reader_t *r, int16_t v, kafka_arena_t *a, %s_t *m)"
                     % (cname, cname))
            C.append("{")
            C.append("    bool flex = v >= %d;" % (flex_min if flex_min >= 0 else 32767))
            C.append("    (void)flex; (void)a;")
            for f in fields:
                if "tag" in f:
                    continue
                c = cond(vrange(f.get("versions")), lo, hi)
                if c == "0":
                    continue
                C.append("    if (%s) {" % c if c != "1" else "    {")
                C.extend("        " + l for l in self.decode_field(msg, f))
                C.append("    }")
            C.append("    if (flex) kr_tags_skip(r);")
            C.append("}")
            C.append("")
            # encode
            C.append("static void encode_%s(kafka_writer_t *w, int16_t v, %s_t *m)" % (cname, cname))
            C.append("{")
            C.append("    bool flex = v >= %d;" % (flex_min if flex_min >= 0 else 32767))
            C.append("    (void)flex;")
            for f in fields:
                if "tag" in f:
                    continue
                c = cond(vrange(f.get("versions")), lo, hi)
                if c == "0":
                    continue
                C.append("    if (%s) {" % c if c != "1" else "    {")
                C.extend("        " + l for l in self.encode_field(msg, f, lo, hi))
                C.append("    }")
            C.append("    kw_tags_empty(w, flex);")
            C.append("}")
            C.append("")
        C.append("void kafka_%s_init(kafka_%s_t *m) { init_kafka_%s(m); }" % (msg, msg, msg))
        C.append("int kafka_%s_decode(kafka_reader_t *r, int16_t v, kafka_arena_t *a, kafka_%s_t *m)"
                 % (msg, msg))
        C.append("{")
        C.append("    init_kafka_%s(m);" % msg)
        C.append("    decode_kafka_%s(r, v, a, m);" % msg)
        C.append("    return r->err;")
        C.append("}")
        C.append("void kafka_%s_encode(kafka_writer_t *w, int16_t v, kafka_%s_t *m) { encode_kafka_%s(w, v, m); }"
                 % (msg, msg, msg))
        C.append("")

    def decode_field(self, msg, f):
        t, n = f["type"], f["name"]
        if t.startswith("[]"):
            inner = t[2:]
            out = ["int32_t n = kr_array_len(r, flex);",
                   "m->%s.is_null = n < 0;" % n,
                   "m->%s.count = n < 0 ? 0 : n;" % n,
                   "if (n > 0) {"]
            if inner in PRIM_ARRAYS:
                et = PRIM[inner][0]
                out += ["    m->%s.items = kafka_arena_calloc(a, (size_t)n, sizeof(%s));" % (n, et),
                        "    if (!m->%s.items) { r->err = GN_ENOMEM; return; }" % n,
                        "    for (int32_t i = 0; i < n && !r->err; i++) m->%s.items[i] = %s;"
                        % (n, PRIM[inner][1])]
            else:
                sn = self.struct_name(msg, inner)
                out += ["    m->%s.items = kafka_arena_calloc(a, (size_t)n, sizeof(%s_t));" % (n, sn),
                        "    if (!m->%s.items) { r->err = GN_ENOMEM; return; }" % n,
                        "    for (int32_t i = 0; i < n && !r->err; i++) {",
                        "        init_%s(&m->%s.items[i]);" % (sn, n),
                        "        decode_%s(r, v, a, &m->%s.items[i]);" % (sn, n),
                        "    }"]
            out.append("}")
            return out
        if t in PRIM:
            return ["m->%s = %s;" % (n, PRIM[t][1])]
        if t == "uuid":
            return ["kr_uuid(r, m->%s);" % n]
        if t == "records":
            return ["m->%s.bytes = kr_records(r, flex);" % n]
        return ["decode_%s(r, v, a, &m->%s);" % (self.struct_name(msg, t), n)]

    def encode_field(self, msg, f, lo, hi):
        t, n = f["type"], f["name"]
        nullable = vrange(f.get("nullableVersions"))
        ncond = cond(nullable, lo, hi)
        if t.startswith("[]"):
            inner = t[2:]
            if ncond != "0":
                out = ["kw_array_len(w, flex, (m->%s.is_null && (%s)) ? -1 : m->%s.count);"
                       % (n, ncond, n)]
            else:
                out = ["kw_array_len(w, flex, m->%s.count);" % n]
            if inner in PRIM_ARRAYS:
                out.append("for (int32_t i = 0; i < m->%s.count; i++) %s;"
                           % (n, PRIM[inner][2].format(v="m->%s.items[i]" % n)))
            else:
                out.append("for (int32_t i = 0; i < m->%s.count; i++) encode_%s(w, v, &m->%s.items[i]);"
                           % (n, self.struct_name(msg, inner), n))
            return out
        if t in ("string", "bytes"):
            fn = "kw_string" if t == "string" else "kw_bytes"
            if ncond == "0":
                return ["%s(w, flex, m->%s.ptr ? m->%s : GN_BYTES_STR(\"\"));" % (fn, n, n)]
            if ncond == "1":
                return ["%s(w, flex, m->%s);" % (fn, n)]
            return ["%s(w, flex, (m->%s.ptr || (%s)) ? m->%s : GN_BYTES_STR(\"\"));"
                    % (fn, n, ncond, n)]
        if t in PRIM:
            return [PRIM[t][2].format(v="m->%s" % n) + ";"]
        if t == "uuid":
            return ["kw_uuid(w, m->%s);" % n]
        if t == "records":
            return ["kw_records(w, flex, &m->%s);" % n]
        return ["encode_%s(w, v, &m->%s);" % (self.struct_name(msg, t), n)]


def main():
    src, dst = sys.argv[1], sys.argv[2]
    g = Gen()
    g.h += ["/* SPDX-License-Identifier: Apache-2.0 */",
            "/* GENERATED by gen_msgs.py from Apache Kafka 3.9 message schemas: do not edit.",
            " * One struct per request/response, with init (schema defaults), decode and",
            " * encode for every version. Field names keep Kafka's spelling. Any thread. */",
            "#ifndef KAFKA_GEN_MSGS_H", "#define KAFKA_GEN_MSGS_H", "",
            "#include <stdbool.h>", "#include <stdint.h>", "", '#include "../codec.h"', ""]
    g.c += ["/* SPDX-License-Identifier: Apache-2.0 */",
            "/* GENERATED by gen_msgs.py from Apache Kafka 3.9 message schemas: do not edit. */",
            '#include "kafka_msgs.h"', "", "#include <string.h>", "",
            '#include "ganglion/error.h"', ""]
    for m in MESSAGES:
        for kind in ("Request", "Response"):
            g.emit_message(load(os.path.join(src, m + kind + ".json")))
    g.h += ["#endif", ""]
    with open(os.path.join(dst, "kafka_msgs.h"), "w") as f:
        f.write("\n".join(g.h))
    with open(os.path.join(dst, "kafka_msgs.c"), "w") as f:
        f.write("\n".join(g.c))


if __name__ == "__main__":
    main()
