#!/usr/bin/env bash
# User-space instructions per request, Redigo beside redis-server, counted by
# valgrind's callgrind: a figure that does not move with the machine's load
# (throughput on the shared 2-core machine moves by 20% between rounds, and
# its VM exposes no hardware counters to `perf stat -e instructions`).
#
#   crates/server/tools/bench_instructions.sh [TESTS] [PIPELINES] [REQUESTS]
#
# For each server, test and pipeline depth: starts the server under
# `valgrind --tool=callgrind`, zeroes the counts once it answers PING
# (start-up is not counted), runs `redis-benchmark -c 50 -n REQUESTS -P p
# -t TEST`, dumps the counts and prints the total instructions of all the
# server's threads divided by REQUESTS, then the ratio Redigo / Redis (below
# 1.0: Redigo executes fewer instructions per request). The kernel's side
# (the socket calls) is not counted: compare syscalls per request with
# `strace -c -f -p PID` instead. `-t lrange_*` also counts the LPUSHes
# redis-benchmark runs first to fill the list. The dump files stay in the
# scratch directory only while the script runs; set KEEP=DIR to keep them
# (for `callgrind_annotate`).
#
# Needs a release build (`cargo build --release -p redigo-server`),
# valgrind, redis-server and redis-benchmark. Under callgrind the servers
# run about 50x slower: keep REQUESTS small (20000 at -P 16 takes about a
# minute per server).
set -euo pipefail
TESTS=${1:-lpush,rpush,lpop,zadd,zpopmin}
PIPELINES=${2:-1,16}
REQUESTS=${3:-20000}
. "$(dirname "$0")/bench_common.sh"
bench_pair 7623 7624
KEEP=${KEEP:-}

count() { # server port test pipeline -> instructions per request
    local server=$1 port=$2 test=$3 pipe=$4 out="$WORK/cg.$1.$3.$4" pid
    if [ "$server" = redis ]; then
        valgrind --tool=callgrind --callgrind-out-file="$out" \
            redis-server --port "$port" --save '' --appendonly no --dir "$WORK" >/dev/null 2>&1 &
    else
        valgrind --tool=callgrind --callgrind-out-file="$out" \
            "$REDIGO" --port "$port" >/dev/null 2>&1 &
    fi
    pid=$!
    for _ in $(seq 1 600); do
        redis-cli -p "$port" ping 2>/dev/null | grep -q PONG && break
        sleep 0.1
    done
    callgrind_control -z "$pid" >/dev/null
    redis-benchmark -p "$port" -c 50 -n "$REQUESTS" -P "$pipe" -t "$test" -q >/dev/null 2>&1
    callgrind_control -d "$pid" >/dev/null
    redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || true
    wait "$pid" 2>/dev/null || true
    # The dump (part 1) holds what ran between the zeroing and the dump.
    local total
    total=$(awk '/^summary:/ {print $2}' "$out.1")
    [ -n "$KEEP" ] && cp "$out.1" "$KEEP/"
    echo $(( total / REQUESTS ))
}

for test in ${TESTS//,/ }; do
    for pipe in ${PIPELINES//,/ }; do
        a=$(count redigo "$REDIGO_PORT" "$test" "$pipe")
        b=$(count redis "$REDIS_PORT" "$test" "$pipe")
        ratio=$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2f", a / b }')
        echo "$test -P$pipe: redigo $a, redis-server $b instructions/request, ratio $ratio"
    done
done
