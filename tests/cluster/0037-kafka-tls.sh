#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Kafka over TLS across three brokers: each registers its TLS port with the controller,
# so a client that bootstraps over TLS (kcat security.protocol=ssl) gets every broker
# at its TLS address in Metadata and its group coordinator's TLS address from
# FindCoordinator, while a plain client still gets the plain addresses. An acks=all
# topic of replication factor 3 is produced and read back exactly over TLS, and a
# consumer group commits over TLS. Ports as lib.bash, plus Kafka TLS ${GN_CLUSTER_PORTS}5N.
set -euo pipefail
source "$(dirname "$0")/lib.bash"
source "$(dirname "$0")/../integration/tls_certs.bash"
command -v kcat >/dev/null || { echo "SKIP: kcat not installed"; exit 0; }
make_tls_certs "$WORK/certs" || fail "making certificates"
tls_port() { echo "${GN_CLUSTER_PORTS}5$1"; }
for n in 1 2 3; do
    start_broker "$n" --kafka.tls.port="$(tls_port "$n")" --tls.cert.file="$WORK/certs/server.pem" \
        --tls.key.file="$WORK/certs/server.key"
done
wait_for 20 "three brokers registered" brokers_in_metadata 3
TLS_BOOT="127.0.0.1:$(tls_port 2)"
ks() {
    timeout 60 kcat -b "$TLS_BOOT" -X security.protocol=ssl -X ssl.ca.location="$WORK/certs/ca.pem" "$@"
}

# Metadata: every broker at its TLS port over TLS, at its plain port over TCP
tls_metadata() {
    ks -L -m 5 >"$WORK/md" 2>&1 || return 1
    for n in 1 2 3; do grep -q "broker $n at 127.0.0.1:$(tls_port "$n")" "$WORK/md" || return 1; done
}
wait_for 20 "every broker at its TLS address over TLS ($(cat "$WORK/md" 2>/dev/null))" tls_metadata
kcat -L -b "$(bootstrap)" -m 5 >"$WORK/md-plain" || fail "plain metadata"
for n in 1 2 3; do
    grep -q "broker $n at 127.0.0.1:${GN_CLUSTER_PORTS}0$n" "$WORK/md-plain" ||
        fail "plain metadata: $(cat "$WORK/md-plain")"
done

# produce over TLS to every leader, read back exactly
kcat -L -b "$(bootstrap)" -t tt -m 5 >/dev/null 2>&1 || true # auto-created with RF 3
wait_for 20 "ISR of three" bash -c "[[ \"\$(kcat -L -b '$(bootstrap)' -t tt -m 2 | grep -o 'isrs: .*')\" =~ ^isrs:\ [0-9],[0-9],[0-9]$ ]]"
seq 1 3000 | sed 's/^/k&:v&/' >"$WORK/sent"
ks -P -t tt -K: -X acks=all -l "$WORK/sent" || fail "produce over TLS"
ks -C -t tt -o beginning -e -q -f '%k:%s\n' >"$WORK/got" || fail "consume over TLS"
cmp -s "$WORK/sent" "$WORK/got" || fail "read back over TLS differs ($(wc -l <"$WORK/got") lines)"

# a consumer group over TLS: FindCoordinator must answer the coordinator's TLS address
ks -G tls-group tt -o beginning -q -f '%s\n' -X auto.commit.interval.ms=200 -c 3000 \
    >"$WORK/group" 2>"$WORK/group.err" || fail "group consumer over TLS: $(tail -3 "$WORK/group.err")"
[[ $(wc -l <"$WORK/group") == 3000 ]] || fail "group consumer got $(wc -l <"$WORK/group") records"
grep -q "tls_port=$(tls_port 1)" "$WORK/b1.log" "$WORK/b2.log" "$WORK/b3.log" ||
    fail "no registration with broker 1's TLS port"
check_logs
stop_all
echo PASS
