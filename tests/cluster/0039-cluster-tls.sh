#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# TLS between brokers (cluster.tls.*): three brokers whose Raft transport and internal
# RPC run over TLS with mutual certificate checks form a cluster and replicate an
# acks=all topic of replication factor 3 (produced through broker 1, read back through
# broker 2, the three logs identical). A plaintext peer and a TLS client without a
# certificate on the internal listener, and a plaintext peer on the Raft port, are refused
# with a log line naming the peer and the reason. Broker 3 restarted with a certificate
# from another CA cannot join: its log says why, the others name it, and produce to the
# other two goes on. Ports as lib.bash; about 15 s.
set -euo pipefail
source "$(dirname "$0")/lib.bash"
command -v kcat >/dev/null || { echo "SKIP: kcat not installed"; exit 0; }
command -v openssl >/dev/null || { echo "SKIP: openssl not installed"; exit 0; }

# a CA, one certificate per broker (server and client: each dials and is dialled), and
# another CA with a broker certificate of its own; EC P-256 keys are fast to make
certs() {
    cd "$WORK" || return 1
    ca() { # name subject
        openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
            -keyout "$1.key" -out "$1.pem" -days 2 -subj "$2" 2>/dev/null
    }
    leaf() { # name subject ca
        openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
            -keyout "$1.key" -out "$1.csr" -subj "$2" 2>/dev/null &&
            printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n' >"$1.ext" &&
            openssl x509 -req -in "$1.csr" -CA "$3.pem" -CAkey "$3.key" -CAcreateserial \
                -out "$1.pem" -days 2 -extfile "$1.ext" 2>/dev/null
    }
    ca ca "/CN=ganglion cluster CA" && ca other-ca "/CN=another CA" &&
        leaf b1 /CN=broker-1 ca && leaf b2 /CN=broker-2 ca && leaf b3 /CN=broker-3 ca &&
        leaf intruder /CN=broker-3 other-ca
}
(certs) || fail "making certificates"
tls_flags() { # N CERT
    echo --cluster.tls.enabled=true --cluster.tls.cert.file="$WORK/$2.pem" \
        --cluster.tls.key.file="$WORK/$2.key" --cluster.tls.ca.file="$WORK/ca.pem"
}
for n in 1 2 3; do
    # shellcheck disable=SC2046
    start_broker "$n" $(tls_flags "$n" "b$n")
done
wait_for 20 "three brokers registered over TLS" brokers_in_metadata 3
kafka() { echo "127.0.0.1:${GN_CLUSTER_PORTS}0$1"; }
rpc_port() { echo "${GN_CLUSTER_PORTS}2$1"; }
raft_port() { echo "${GN_CLUSTER_PORTS}1$1"; }

# replication over TLS: acks=all through broker 1, read back through broker 2
kcat -L -b "$(kafka 1)" -t tt -m 5 >/dev/null 2>&1 || true # auto-created with RF 3
wait_for 20 "ISR of three" isr_full tt
seq 1 2000 | sed 's/^/k&:v&/' >"$WORK/sent"
timeout 30 kcat -P -b "$(kafka 1)" -t tt -K: -X acks=all -l "$WORK/sent" || fail "produce acks=all"
timeout 30 kcat -C -b "$(kafka 2)" -t tt -o beginning -e -q -f '%k:%s\n' >"$WORK/got" ||
    fail "consume through broker 2"
cmp -s "$WORK/sent" "$WORK/got" || fail "read back differs ($(wc -l <"$WORK/got") lines)"
wait_for 10 "the three logs identical" same_logs tt-0

# a plaintext peer on the internal listener: an RPC frame, refused by the handshake
refused() { # LOG MOD REASON: the port owner's log line for a client from 127.0.0.1
    grep -q "mod=$2 msg=\"TLS handshake failed; closing\" client=127.0.0.1:[0-9]* reason=\"$3" "$1"
}
printf '\0\0\0\x16\0\0\0\x12{"op":"heartbeat"}' >/dev/tcp/127.0.0.1/"$(rpc_port 1)" || true
wait_for 5 "broker 1 refusing a plaintext RPC peer" refused "$WORK/b1.log" cluster ""
# a TLS client without a certificate
timeout 5 openssl s_client -connect "127.0.0.1:$(rpc_port 2)" -CAfile "$WORK/ca.pem" \
    </dev/null >/dev/null 2>&1 || true
wait_for 5 "broker 2 refusing a peer without a certificate" refused "$WORK/b2.log" cluster \
    "peer did not return a certificate"
# a plaintext peer on the Raft port (as libraft's own TCP transport starts: protocol 1, id)
printf '\x01\0\0\0\0\0\0\0\x09\0\0\0\0\0\0\0' >/dev/tcp/127.0.0.1/"$(raft_port 3)" || true
wait_for 5 "broker 3 refusing a plaintext Raft peer" refused "$WORK/b3.log" raft ""

# broker 3 back with a certificate from another CA: refused by both, says why itself
kill9 3
# shellcheck disable=SC2046
start_broker 3 $(tls_flags 3 intruder)
# (Raft first: it cannot reach the quorum, so it never gets as far as the internal RPC)
bad_ca() { grep -q "mod=raft msg=\"TLS handshake failed; closing\" client=127.0.0.1:[0-9]* reason=\"certificate verify failed" "$1"; }
wait_for 15 "broker 1 refusing broker 3's certificate" bad_ca "$WORK/b1.log"
wait_for 15 "broker 2 refusing broker 3's certificate" bad_ca "$WORK/b2.log"
told() { grep -q 'mod=raft msg="TLS error; closing" server=127.0.0.1:[0-9]* reason="tlsv1 alert unknown ca' "$WORK/b3.log"; }
wait_for 15 "broker 3 told its certificate's CA is unknown" told
two_left() { [[ "$(kcat -L -b "$(kafka 1)" -m 2 2>/dev/null | grep -c '^  broker ')" == 2 ]]; }
wait_for 15 "broker 3 fenced (not rejoined)" two_left
seq 2001 2100 | sed 's/^/k&:v&/' >"$WORK/sent2"
timeout 30 kcat -P -b "$(kafka 1)" -t tt -K: -X acks=all -l "$WORK/sent2" ||
    fail "produce acks=all to the two brokers left"
kill9 3
check_logs
stop_all
echo PASS
