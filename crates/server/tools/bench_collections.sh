#!/usr/bin/env bash
# Collection throughput, Redigo beside redis-server in the same run on the
# same machine (issues 16 and 17: "throughput at least 1.0x").
#
#   crates/server/tools/bench_collections.sh [ROUNDS] [REQUESTS] [TESTS]
#
# Needs a release build (`cargo build --release -p redigo-server`) and
# redis-server + redis-benchmark on PATH. Both servers run without
# persistence, side by side for the whole run. The machine is shared and
# noisy (its load moves throughput by 20-40% within a minute), so the two
# servers are compared test by test: each `redis-benchmark -c 50 -n
# REQUESTS -t TEST` runs against one server and at once against the other
# (which server goes first alternates from test to test and round to round),
# so the two figures of a pair are seconds apart. Each server sees the same
# sequence of commands, so their data stay alike. A round runs:
#   * every test of TESTS at -P 1, then at -P 16 (the keys the tests share,
#     mylist and myzset, deleted before each depth);
#   * `ZRANGE zbig r +inf BYSCORE LIMIT 0 100` (100 members from a random
#     score r, which is also their rank) and `ZRANK zbig member:r`
#     on a 1,000,000-member sorted set, -c 50 -P 1 (filled before round 1).
# Around every run it reads the server's CPU time (user + system, all
# threads) from /proc/PID/stat (Linux). It prints, one line per test, round
# and pipeline depth, requests/s and CPU microseconds per request for each
# server and the ratios Redigo / Redis, then each test's ratios sorted and
# their median, for throughput and for CPU per request.
set -euo pipefail
ROUNDS=${1:-3}
REQUESTS=${2:-200000}
TESTS=${3:-set,get,lpush,rpush,lpop,rpop,lrange_100,lrange_300,lrange_600,zadd,zpopmin}
. "$(dirname "$0")/bench_common.sh"
bench_pair 7621 7622
# PIPELINED_REQUESTS (default REQUESTS): the requests of each -P 16 test. At
# -P 16 a server answers about a million requests a second, so 100,000 of
# them take a tenth of a second and the pair's ratio is mostly noise (the
# A/A run's -P 16 ratios spread 0.80-1.30 at 100,000); 2,000,000 take two.
PIPELINED_REQUESTS=${PIPELINED_REQUESTS:-$REQUESTS}
# DEPTHS (default "1 16"): the pipeline depths to run TESTS at.
DEPTHS=${DEPTHS:-1 16}
# ZBIG=0 skips the 1,000,000-member sorted set (its fill and its two tests).
ZBIG=${ZBIG:-1}
# RANDOM_KEYS=N: TESTS run with `-r N`, so __rand_int__ draws from N values:
# ZADD then fills myzset with up to N random members at random scores, and
# ZPOPMIN pops them (without it every ZADD writes the one member
# element:000000000000, and every ZPOPMIN but the first finds no key).
RANDOM_ARGS=()
[ -n "${RANDOM_KEYS:-}" ] && RANDOM_ARGS=(-r "$RANDOM_KEYS")
# PIN=1: each server on CPU 0, redis-benchmark on CPU 1 (taskset), so the
# scheduler never puts the client and the server on one core.
SERVER_CPU=; CLIENT_CPU=
if [ "${PIN:-0}" = 1 ]; then SERVER_CPU="taskset -c 0"; CLIENT_CPU="taskset -c 1"; fi

# AA=1: an A/A run, a second redis-server in Redigo's place (same start,
# same port): the ratios it prints are the measurement's own spread on this
# machine, against which a Redigo / Redis ratio near 1.0 is read.
AA=${AA:-0}

# Both servers start the same way, as children of this shell, never with
# `--daemonize yes` (see bench_common.sh).
start() { # server (running, empty, on its port)
    if [ "$1" = redis ] || [ "$AA" = 1 ]; then
        local port=$REDIS_PORT
        [ "$1" = redigo ] && port=$REDIGO_PORT
        $SERVER_CPU redis-server --port "$port" --save '' --appendonly no --dir "$WORK" \
            >"$WORK/$1.log" 2>&1 &
        if [ "$1" = redis ]; then REDIS_PID=$!; else REDIGO_PID=$!; fi
        wait_port "$port"
    else
        $SERVER_CPU "$REDIGO" --port "$REDIGO_PORT" >"$WORK/redigo.log" 2>&1 &
        REDIGO_PID=$!
        wait_port "$REDIGO_PORT"
    fi
}

rps() { # port args... -> "test,rps" lines
    $CLIENT_CPU redis-benchmark -p "$1" --csv "${@:2}" 2>/dev/null | tail -n +2 | tr -d '"' | cut -d, -f1,2
}

# 1,000,000 members `member:<n as 12 digits>` with score n (the form of
# redis-benchmark's __rand_int__), loaded by --pipe.
fill_zbig() {
    python3 - <<'PY' | redis-cli -p "$1" --pipe >/dev/null
import sys
out = sys.stdout.buffer
for base in range(0, 1_000_000, 1000):
    args = [b"ZADD", b"zbig"]
    for n in range(base, base + 1000):
        args += [b"%d" % n, b"member:%012d" % n]
    out.write(b"*%d\r\n" % len(args))
    for a in args:
        out.write(b"$%d\r\n%s\r\n" % (len(a), a))
PY
}

# CPU time (user + system, all threads, in clock ticks) a process has used.
cpu_ticks() { sed 's/.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'; }
TICK_US=$((1000000 / $(getconf CLK_TCK)))

# One benchmark against one server: its lines "test,rps" in $WORK/p$3, and
# the server's CPU time for the run in microseconds in $WORK/c$3.
# Args: port pid a|b bench-args...
measure() {
    local before after
    before=$(cpu_ticks "$2")
    rps "$1" "${@:4}" >"$WORK/p$3"
    after=$(cpu_ticks "$2")
    echo $(( (after - before) * TICK_US )) >"$WORK/c$3"
}

FLIP=0
# Runs one benchmark on both servers, the first alternating; prints
# "test,pipeline,redigo_rps,redis_rps,redigo_cpu_us,redis_cpu_us" for each
# test it reports (not the LPUSH an `lrange_*` test runs first to fill its
# list; the CPU time per request is then that of both: LPUSH and LRANGE).
# Args: label pipeline bench-args... (label replaces the name of a custom
# command).
pair() {
    local label=$1 pipe=$2 tests ca cb n=${N:-$REQUESTS}
    FLIP=$((1 - FLIP))
    if (( FLIP )); then
        measure "$REDIGO_PORT" "$REDIGO_PID" a "${@:3}"; measure "$REDIS_PORT" "$REDIS_PID" b "${@:3}"
    else
        measure "$REDIS_PORT" "$REDIS_PID" b "${@:3}"; measure "$REDIGO_PORT" "$REDIGO_PID" a "${@:3}"
    fi
    tests=$(wc -l <"$WORK/pa")
    ca=$(awk -v c="$(cat "$WORK/ca")" -v n=$((tests * n)) 'BEGIN { printf "%.2f", c / n }')
    cb=$(awk -v c="$(cat "$WORK/cb")" -v n=$((tests * n)) 'BEGIN { printf "%.2f", c / n }')
    paste -d, "$WORK/pa" "$WORK/pb" | while IFS=, read -r name a _ b; do
        case $name in *needed*) continue ;; esac # the LPUSH filling LRANGE's list
        [ -n "$label" ] && name=$label
        echo "${name%% *},$pipe,$a,$b,$ca,$cb"
    done
}

start redigo
start redis
if [ "$ZBIG" = 1 ]; then
    fill_zbig "$REDIGO_PORT"
    fill_zbig "$REDIS_PORT"
fi

for round in $(seq 1 "$ROUNDS"); do
    FLIP=$((round % 2))
    for p in $DEPTHS; do
        # The list and sorted-set tests share keys (mylist, myzset): start
        # each depth from empty ones, as one redis-benchmark run would.
        redis-cli -p "$REDIGO_PORT" del mylist myzset key:__rand_int__ >/dev/null
        redis-cli -p "$REDIS_PORT" del mylist myzset key:__rand_int__ >/dev/null
        n=$REQUESTS
        (( p > 1 )) && n=$PIPELINED_REQUESTS
        for test in ${TESTS//,/ }; do
            N=$n pair "" "P$p" -c 50 -n "$n" -P "$p" "${RANDOM_ARGS[@]}" -t "$test"
        done
    done
    # 100 members from a random score (= rank), and the rank of a random member.
    [ "$ZBIG" = 1 ] || continue
    pair ZRANGE_100_1M P1 -c 50 -n "$REQUESTS" -r 999900 zrange zbig __rand_int__ +inf byscore limit 0 100
    pair ZRANK_1M P1 -c 50 -n "$REQUESTS" -r 1000000 zrank zbig member:__rand_int__
done | while IFS=, read -r test pipe a b ca cb; do
    ratio=$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2f", a / b }')
    cpu=$(awk -v a="$ca" -v b="$cb" 'BEGIN { printf "%.2f", a / b }')
    echo "$test -$pipe: redigo $a rps $ca us/req, redis-server $b rps $cb us/req, ratio $ratio cpu $cpu"
done | tee "$WORK/lines"
summary() { # what, fields-from-the-end -> per test: sorted ratios and median
    awk -v c="$2" '{k=$1" "$2; r[k]=r[k]" "$(NF - c)} END {for (k in r) print k, r[k]}' "$WORK/lines" | sort |
        while read -r test pipe ratios; do
            sorted=$(echo $ratios | tr ' ' '\n' | sort -n | tr '\n' ' ')
            median=$(echo $ratios | tr ' ' '\n' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
            echo "$test $pipe $1: $sorted median $median"
        done
}
summary "throughput ratios" 2
summary "server CPU per request ratios" 0
