#!/usr/bin/env bash
# Latency of a steady client before and during BGREWRITEAOF with 1,000,000
# keys, Redigo beside redis-server in the same run (issue 6's "measure and
# report"; goal: p99 during at most 2x p99 outside).
#
#   crates/server/tools/bench_rewrite_latency.sh [KEYS] [REWRITES]
#
# For each server (appendfsync everysec, automatic rewrites off): load KEYS
# keys (16-byte values) through `redis-cli --pipe`, then run the
# `rewrite_latency` example (one client doing SET/GET back to back while a
# control connection runs REWRITES rewrites a second apart); it prints
# p50/p99/max of the round trips that started during a rewrite and outside
# one, and the mean rewrite duration. Needs
# `cargo build --release -p redigo-server --example rewrite_latency`.
set -euo pipefail
KEYS=${1:-1000000}
REWRITES=${2:-5}
. "$(dirname "$0")/bench_common.sh"
bench_pair 7613 7614

write_set_commands "$KEYS" >"$WORK/load.resp"

measure() { # name port
    local name=$1 port=$2
    redis-cli -p "$port" --pipe <"$WORK/load.resp" >/dev/null
    echo "== $name"
    "$PROBE" "$port" "$REWRITES"
    redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || true
    sleep 0.5
}

mkdir -p "$WORK/redigo" "$WORK/redis"
"$REDIGO" --port "$REDIGO_PORT" --aof-enabled --aof-path "$WORK/redigo/appendonly.aof" \
    --appendfsync everysec --auto-aof-rewrite-percentage 0 >"$WORK/redigo/log" 2>&1 &
wait_port "$REDIGO_PORT"
measure redigo "$REDIGO_PORT"
redis-server --port "$REDIS_PORT" --save '' --appendonly yes --appendfsync everysec \
    --aof-use-rdb-preamble no --auto-aof-rewrite-percentage 0 --dir "$WORK/redis" \
    >"$WORK/redis/log" 2>&1 &
wait_port "$REDIS_PORT"
measure redis "$REDIS_PORT"
