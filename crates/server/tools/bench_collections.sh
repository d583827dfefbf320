#!/usr/bin/env bash
# Collection throughput, Redigo beside redis-server in the same run on the
# same machine (issues 16 and 17: "throughput at least 1.0x").
#
#   crates/server/tools/bench_collections.sh [ROUNDS] [REQUESTS] [TESTS]
#
# Needs a release build (`cargo build --release -p redigo-server`) and
# redis-server + redis-benchmark on PATH. Both servers run without
# persistence. Each round runs, for each server in turn (the order
# alternates between rounds, because the machine is shared and noisy):
#   * `redis-benchmark -c 50 -n REQUESTS -t TESTS` at -P 1 and -P 16;
#   * `ZRANGE zbig r +inf BYSCORE LIMIT 0 100` (100 members from a random
#     score r, which is also their rank) and `ZRANK zbig member:r`
#     on a 1,000,000-member sorted set, -c 50 -P 1.
# It prints requests/s per server and the ratio Redigo / Redis, one line per
# test, round and pipeline depth, then the median ratio per test.
set -euo pipefail
ROUNDS=${1:-3}
REQUESTS=${2:-200000}
TESTS=${3:-set,get,lpush,rpush,lpop,rpop,lrange_100,lrange_300,lrange_600,zadd,zpopmin}
. "$(dirname "$0")/bench_common.sh"
bench_pair 7621 7622

start() { # server -> port (server running, empty)
    if [ "$1" = redis ]; then
        redis-server --port "$REDIS_PORT" --save '' --appendonly no --dir "$WORK" \
            --daemonize yes --logfile "$WORK/redis.log" >/dev/null
        wait_port "$REDIS_PORT"; echo "$REDIS_PORT"
    else
        "$REDIGO" --port "$REDIGO_PORT" >"$WORK/redigo.log" 2>&1 &
        wait_port "$REDIGO_PORT"; echo "$REDIGO_PORT"
    fi
}

stop() { redis-cli -p "$1" shutdown nosave >/dev/null 2>&1 || true; sleep 0.3; }

rps() { # port args... -> "test,rps" lines
    redis-benchmark -p "$1" --csv "${@:2}" 2>/dev/null | tail -n +2 | tr -d '"' | cut -d, -f1,2
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

run_server() { # server round -> lines "test,pipeline,rps"
    local port
    port=$(start "$1")
    for p in 1 16; do
        redis-cli -p "$port" flushall >/dev/null
        rps "$port" -c 50 -n "$REQUESTS" -P "$p" -t "$TESTS" | sed "s/^\([^,]*\),/\1,P$p,/"
    done
    redis-cli -p "$port" flushall >/dev/null
    fill_zbig "$port"
    # 100 members from a random score (= rank), and the rank of a random member.
    rps "$port" -c 50 -n "$REQUESTS" -r 999900 zrange zbig __rand_int__ +inf byscore limit 0 100 \
        | sed 's/^[^,]*,/ZRANGE_100_1M,P1,/'
    rps "$port" -c 50 -n "$REQUESTS" -r 1000000 zrank zbig member:__rand_int__ \
        | sed 's/^[^,]*,/ZRANK_1M,P1,/'
    stop "$port"
}

declare -A RATIOS
for round in $(seq 1 "$ROUNDS"); do
    if (( round % 2 )); then
        run_server redigo > "$WORK/a"; run_server redis > "$WORK/b"
    else
        run_server redis > "$WORK/b"; run_server redigo > "$WORK/a"
    fi
    while IFS=, read -r test pipe a; do
        b=$(awk -F, -v t="$test" -v p="$pipe" '$1 == t && $2 == p {print $3}' "$WORK/b")
        ratio=$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2f", a / b }')
        echo "round $round $test -$pipe: redigo $a rps, redis-server $b rps, ratio $ratio"
        RATIOS["$test -$pipe"]="${RATIOS["$test -$pipe"]:-} $ratio"
    done < "$WORK/a"
done
for key in "${!RATIOS[@]}"; do
    echo "$key median ratio: $(echo ${RATIOS[$key]} | tr ' ' '\n' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')"
done | sort
