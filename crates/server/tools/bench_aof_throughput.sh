#!/usr/bin/env bash
# Write throughput per appendfsync policy, Redigo beside redis-server in the
# same run on the same machine (issue 6's "measure and report").
#
#   crates/server/tools/bench_aof_throughput.sh [ROUNDS] [REQUESTS] [CLIENTS] [PIPELINE]
#
# Needs a release build (`cargo build --release -p redigo-server`) and
# redis-server + redis-benchmark on PATH. For each policy and round it
# starts each server on a fresh AOF directory, runs
# `redis-benchmark -t set -n REQUESTS -c CLIENTS -P PIPELINE -r 1000000`
# (PIPELINE requests in flight per client, 1 by default), and prints
# requests/s; rounds alternate which server goes first, because the machine
# is shared and noisy. The last lines give the median ratio per policy.
set -euo pipefail
ROUNDS=${1:-3}
REQUESTS=${2:-100000}
CLIENTS=${3:-50}
PIPELINE=${4:-1}
. "$(dirname "$0")/bench_common.sh"
bench_pair 7611 7612

run_one() { # server policy -> rps
    local server=$1 policy=$2 dir
    dir=$(mktemp -d -p "$WORK")
    if [ "$server" = redis ]; then
        redis-server --port "$REDIS_PORT" --save '' --appendonly yes --appendfsync "$policy" \
            --aof-use-rdb-preamble no --dir "$dir" >"$dir/log" 2>&1 &
        port=$REDIS_PORT
    else
        "$REDIGO" --port "$REDIGO_PORT" --aof-enabled --aof-path "$dir/appendonly.aof" \
            --appendfsync "$policy" >"$dir/log" 2>&1 &
        port=$REDIGO_PORT
    fi
    wait_port "$port"
    redis-benchmark -p "$port" -t set -n "$REQUESTS" -c "$CLIENTS" -P "$PIPELINE" -r 1000000 -q 2>/dev/null \
        | tr '\r' '\n' | awk '/requests per second/ {print $2}' | tail -1
    redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || true
    sleep 0.3
    rm -rf "$dir"
}

declare -A RATIOS
for policy in always everysec no; do
    for round in $(seq 1 "$ROUNDS"); do
        if (( round % 2 )); then
            a=$(run_one redigo "$policy"); b=$(run_one redis "$policy")
        else
            b=$(run_one redis "$policy"); a=$(run_one redigo "$policy")
        fi
        ratio=$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2f", a / b }')
        echo "$policy round $round: redigo $a rps, redis-server $b rps, ratio $ratio"
        RATIOS[$policy]="${RATIOS[$policy]:-} $ratio"
    done
done
for policy in always everysec no; do
    echo "$policy median ratio: $(echo ${RATIOS[$policy]} | tr ' ' '\n' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')"
done
