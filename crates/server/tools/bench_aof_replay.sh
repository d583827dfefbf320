#!/usr/bin/env bash
# Start-up replay speed: the same AOF of KEYS `SET`s (plus a SELECT) loaded
# by Redigo and by redis-server in the same run; prints the seconds from
# process start to the first PING answered, and keys/s.
#
#   crates/server/tools/bench_aof_replay.sh [KEYS] [ROUNDS]
set -euo pipefail
KEYS=${1:-1000000}
ROUNDS=${2:-3}
. "$(dirname "$0")/bench_common.sh"
PORT=${PORT:-7616}
bench_scratch "$PORT"

{
    printf '*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n'
    write_set_commands "$KEYS"
} >"$WORK/appendonly.aof"
echo "AOF: $(stat -c %s "$WORK/appendonly.aof") bytes, $KEYS keys"

run_quiet() { "$@" >/dev/null 2>&1; }

time_start() { # command... -> seconds until PING answers
    local t0 t1
    t0=$(date +%s.%N)
    "$@" &
    while ! redis-cli -p "$PORT" ping 2>/dev/null | grep -q PONG; do sleep 0.01; done
    t1=$(date +%s.%N)
    local keys
    keys=$(redis-cli -p "$PORT" dbsize)
    [ "$keys" = "$KEYS" ] || { echo "loaded $keys keys, expected $KEYS" >&2; exit 1; }
    redis-cli -p "$PORT" shutdown nosave >/dev/null 2>&1 || true
    wait 2>/dev/null || true
    awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }'
}

for round in $(seq 1 "$ROUNDS"); do
    rm -rf "$WORK/redigo" "$WORK/redis"; mkdir -p "$WORK/redigo" "$WORK/redis"
    cp "$WORK/appendonly.aof" "$WORK/redigo/appendonly.aof"
    cp "$WORK/appendonly.aof" "$WORK/redis/appendonly.aof"
    a=$(time_start run_quiet "$REDIGO" --port "$PORT" --aof-enabled --aof-path "$WORK/redigo/appendonly.aof" --auto-aof-rewrite-percentage 0)
    b=$(time_start redis-server --port "$PORT" --save '' --appendonly yes --aof-use-rdb-preamble no \
        --auto-aof-rewrite-percentage 0 --dir "$WORK/redis" --logfile "$WORK/redis/log")
    echo "round $round: redigo $a s ($(awk -v k="$KEYS" -v t="$a" 'BEGIN { printf "%.0f", k / t }') keys/s), redis-server $b s ($(awk -v k="$KEYS" -v t="$b" 'BEGIN { printf "%.0f", k / t }') keys/s), ratio (redis time / redigo time) $(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2f", b / a }')"
done
