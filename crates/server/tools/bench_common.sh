# Shared by the bench_*.sh scripts (sourced, not run): where the binaries
# are and how to wait for a server.
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
REDIGO=${REDIGO:-$ROOT/target/release/redigo}
PROBE=${PROBE:-$ROOT/target/release/examples/rewrite_latency}

# Makes the scratch directory $WORK; on exit, shuts down the servers on the
# ports given and removes it.
bench_scratch() {
    WORK=$(mktemp -d)
    BENCH_PORTS="$*"
    trap 'for port in $BENCH_PORTS; do redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || true; done; rm -rf "$WORK"' EXIT
}

# For scripts running Redigo beside redis-server: sets REDIGO_PORT and
# REDIS_PORT (from the environment, else the defaults $1 and $2) and the
# scratch directory (bench_scratch) for both.
bench_pair() {
    REDIGO_PORT=${REDIGO_PORT:-$1}
    REDIS_PORT=${REDIS_PORT:-$2}
    bench_scratch "$REDIGO_PORT" "$REDIS_PORT"
}

# Every script starts redis-server as it starts Redigo: a child of the
# script, never with `--daemonize yes`. A daemon calls setsid, and with the
# kernel's autogroup scheduling (/proc/sys/kernel/sched_autogroup_enabled)
# a process in a session of its own is scheduled as a group apart from
# redis-benchmark. While another process kept one core busy, that alone
# made a redis-server started in the benchmark's session 1.25-1.3x faster
# at -P 1 than a daemonized one, in an A/A run (docs/store.md, "Run E").

# Waits until a server answers PING on port $1 (10 s at most).
wait_port() {
    for _ in $(seq 1 200); do
        redis-cli -p "$1" ping 2>/dev/null | grep -q PONG && return 0
        sleep 0.05
    done
    echo "server on port $1 did not start" >&2
    exit 1
}

# Writes N commands `SET key:<12 digits> <16 bytes>` as RESP to stdout.
write_set_commands() {
    python3 - "$1" <<'PY'
import sys
n = int(sys.argv[1])
out = sys.stdout.buffer
for i in range(n):
    key = b"key:%012d" % i
    out.write(b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$16\r\nxxxxxxxxxxxxxxxx\r\n" % (len(key), key))
PY
}
