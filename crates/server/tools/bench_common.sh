# Shared by the bench_*.sh scripts (sourced, not run): where the binaries
# are and how to wait for a server.
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
REDIGO=${REDIGO:-$ROOT/target/release/redigo}
PROBE=${PROBE:-$ROOT/target/release/examples/rewrite_latency}

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
