#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds Apache Kafka's Java client (kafka-clients) from a source tree without Gradle or
# Maven Central: javac the message generator, generate the protocol message classes as
# Kafka's build does (processMessages), javac the client against Debian's jars, jar it.
#   tests/java/build-kafka-clients.sh KAFKA_SOURCE_DIR OUT_JAR [VERSION COMMIT]
# KAFKA_SOURCE_DIR holds clients/ and generator/ of a Kafka checkout (e.g. `git archive 3.6
# clients generator | tar -x`). Needs openjdk-17-jdk-headless and libjackson2-databind-java
# libargparse4j-java libzstd-jni-java liblz4-java libsnappy-java libslf4j-java.
set -euo pipefail
src=$(cd "$1" && pwd)
out=$2
version=${3:-unknown}
commit=${4:-unknown}
J=/usr/share/java
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

gen_cp="$J/jackson-databind.jar:$J/jackson-core.jar:$J/jackson-annotations.jar:$J/argparse4j.jar"
mkdir -p "$work/gen-classes" "$work/generated"
javac -nowarn -d "$work/gen-classes" -cp "$gen_cp" $(find "$src/generator/src/main/java" -name '*.java')
java -cp "$work/gen-classes:$gen_cp" org.apache.kafka.message.MessageGenerator \
    -p org.apache.kafka.common.message -o "$work/generated/org/apache/kafka/common/message" \
    -i "$src/clients/src/main/resources/common/message" \
    -t ApiMessageTypeGenerator -m MessageDataGenerator JsonConverterGenerator >/dev/null

cp_jars="$gen_cp:$J/zstd-jni.jar:$J/lz4-java.jar:$J/snappy-java.jar:$J/slf4j-api.jar"
mkdir -p "$work/classes"
# OAUTHBEARER's OIDC support needs jose4j, which Debian does not package: those classes
# (the files using org.jose4j and the two callback handlers built on them) are left out;
# SASL/OAUTHBEARER with OIDC is the only feature missing from the jar.
find "$src/clients/src/main/java" "$work/generated" -name '*.java' |
    grep -v -f <(grep -rl 'org\.jose4j' "$src/clients/src/main/java"
        printf '%s\n' OAuthBearerLoginCallbackHandler.java OAuthBearerValidatorCallbackHandler.java \
            AccessTokenValidatorFactory.java VerificationKeyResolverFactory.java \
            AccessTokenRetrieverFactory.java HttpAccessTokenRetriever.java
    ) >"$work/sources"
javac -nowarn -XDignore.symbol.file -d "$work/classes" -cp "$cp_jars" @"$work/sources" 2>&1 |
    grep -v '^Note:' || true
cp -r "$src/clients/src/main/resources/." "$work/classes/"
mkdir -p "$work/classes/kafka" # what AppInfoParser reports (Gradle writes it in Kafka's build)
printf 'version=%s\ncommitId=%s\n' "$version" "$commit" >"$work/classes/kafka/kafka-version.properties"
jar cf "$out" -C "$work/classes" .
echo "built $out ($(du -h "$out" | cut -f1))"
