# SPDX-License-Identifier: Apache-2.0
# What the MQTT benchmarks (mqtt_bench.sh, mqtt_ab.sh) share: waiting for a listener and
# Mosquitto's configuration for a fair comparison (in memory, unbounded queues and
# in-flight windows so that it drops nothing, no log). Sourced; WORK must be set.

# wait_port PORT: until 127.0.0.1:PORT accepts (5 s), else exit 1
wait_port() {
    for _ in $(seq 1 100); do
        (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0
        sleep 0.05
    done
    echo "port $1 did not open"
    exit 1
}

# mosquitto_conf PORT: writes $WORK/mosquitto.conf for a listener on 127.0.0.1:PORT
mosquitto_conf() {
    cat >"$WORK/mosquitto.conf" <<CONF
listener $1 127.0.0.1
allow_anonymous true
persistence false
max_queued_messages 0
max_queued_bytes 0
max_inflight_messages 0
max_connections -1
log_dest none
CONF
}
