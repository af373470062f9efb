#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Apache Kafka's own Java client (kafka-clients 3.6, built from Kafka's source by
# tests/java/build-kafka-clients.sh; tests/java/README.md) against one broker, with the
# client's defaults: idempotent producer with every codec, a consumer group that commits
# and a second member resuming, the AdminClient (tests/java/GanglionSmoke.java). Port 29087.
set -euo pipefail
source "$(dirname "$0")/lib.bash"
JAVA_DIR="$(cd "$(dirname "$0")/../../java" && pwd)"
J=/usr/share/java
for f in "$J/zstd-jni.jar" "$J/lz4-java.jar" "$J/snappy-java.jar" "$J/slf4j-api.jar"; do
    [[ -f $f ]] || fail "$f missing (apt-get install libzstd-jni-java liblz4-java libsnappy-java libslf4j-java)"
done
command -v javac >/dev/null || fail "javac missing (apt-get install openjdk-17-jdk-headless)"
CP="$WORK/classes:$JAVA_DIR/lib/kafka-clients-3.6.jar"
mkdir -p "$WORK/classes"
javac -nowarn -d "$WORK/classes" -cp "$CP" "$JAVA_DIR/GanglionSmoke.java" || fail "javac GanglionSmoke"
start_broker 29087 --group.initial.rebalance.delay.ms=0
timeout 90 java -cp "$CP:$J/slf4j-api.jar:$J/zstd-jni.jar:$J/lz4-java.jar:$J/snappy-java.jar" \
    GanglionSmoke "$BROKER" >"$WORK/java.out" 2>&1 || {
    cat "$WORK/java.out"
    fail "the Java client"
}
grep '^ok:' "$WORK/java.out"
grep -q '^PASS$' "$WORK/java.out" || fail "no PASS from the Java client"
echo PASS
