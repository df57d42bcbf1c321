# cluster-lib.sh - a loopback yima cluster for scripts/cluster-demo,
# tests/integration/test_cluster.sh and scripts/bench cluster: three
# nats-servers (JetStream, one NATS cluster) and yimad nodes, started,
# killed -9 and restarted by pid (only the processes started here are
# ever signalled).  Source it, then set CL_DIR (a scratch directory),
# CL_BUILD (the build dir) and call cl_init.
#
#   cl_init [BASEPORT]        ports BASE+1.. (nats), +11.. (routes), +21.. (monitor), +31.. (yimad)
#                             (default: a base below the kernel's ephemeral range, every port free)
#   cl_nats_start I           start nats-server I (1..3), wait for /healthz
#   cl_nats_kill9 I           kill -9 it
#   cl_nats_urls              nats://127.0.0.1:PORT,... of all three
#   cl_keys                   the cluster's patient key and log key in CL_DIR
#   cl_node_start I [ARGS]    start yimad node I on CL_DIR/nodeI (cl_node_wait I: its /healthz)
#   cl_node_kill9 I
#   cl_node_url I             http://127.0.0.1:PORT
#   cl_stop_all               SIGTERM everything started here, wait
# shellcheck shell=bash

# A base whose 50 ports are free, below 32768 (the kernel hands out
# ephemeral ports above it: a client's connection could take one).
cl_free_base() {
	python3 - <<'PY'
import random, socket
for _ in range(200):
    base = 20000 + random.randrange(120) * 100
    ok = True
    for p in range(base, base + 50):
        s = socket.socket()
        try:
            s.bind(("127.0.0.1", p))
        except OSError:
            ok = False
        finally:
            s.close()
        if not ok:
            break
    if ok:
        print(base)
        break
PY
}

cl_init() {
	CL_BASE=${1:-$(cl_free_base)}
	[ -n "$CL_BASE" ] || { echo "cluster-lib: no free ports" >&2; return 1; }
	CL_P=${CL_P:-4}
	CL_NAME=${CL_NAME:-demo}
	mkdir -p "$CL_DIR"
	for i in 1 2 3; do
		cat > "$CL_DIR/nats$i.conf" <<CONF
server_name: n$i
listen: 127.0.0.1:$((CL_BASE + i))
http: 127.0.0.1:$((CL_BASE + 20 + i))
max_payload: 8MB
jetstream { store_dir: "$CL_DIR/js$i", max_memory_store: 256MB, max_file_store: 8GB }
cluster {
  name: yima
  listen: 127.0.0.1:$((CL_BASE + 10 + i))
  routes: [ nats-route://127.0.0.1:$((CL_BASE + 11)), nats-route://127.0.0.1:$((CL_BASE + 12)), nats-route://127.0.0.1:$((CL_BASE + 13)) ]
}
CONF
	done
}

cl_nats_urls() {
	echo "nats://127.0.0.1:$((CL_BASE + 1)),nats://127.0.0.1:$((CL_BASE + 2)),nats://127.0.0.1:$((CL_BASE + 3))"
}

cl_wait_http() {	# url seconds: until it answers 200
	local i
	for ((i = 0; i < $2 * 20; i++)); do
		curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	echo "cluster-lib: $1 did not answer within $2 s" >&2
	return 1
}

cl_nats_start() {
	# setsid: not in the caller's process group (timeout(1) would signal it)
	setsid nats-server -c "$CL_DIR/nats$1.conf" -l "$CL_DIR/nats$1.log" </dev/null >/dev/null 2>&1 &
	echo $! > "$CL_DIR/nats$1.pid"
}

cl_nats_wait() {	# I...: until each says healthy (JetStream current)
	local i
	for i in "$@"; do cl_wait_http "http://127.0.0.1:$((CL_BASE + 20 + i))/healthz" 90 || return 1; done
}

cl_nats_kill9() {
	local pid
	pid=$(cat "$CL_DIR/nats$1.pid" 2>/dev/null) || return 0
	kill -9 "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	rm -f "$CL_DIR/nats$1.pid"
}

# The cluster's keys, the same files on every node: the patient key, and
# the log's signing key (an Ed25519 PEM, as `yima init` makes one).
cl_keys() {
	(umask 077; openssl rand -hex 32 > "$CL_DIR/patient.key")
	rm -rf "$CL_DIR/keys"
	"$CL_BUILD/yima" init --db "$CL_DIR/keys" >/dev/null 2>&1
	install -m 0600 "$CL_DIR/keys/log.key" "$CL_DIR/log.key"
	rm -rf "$CL_DIR/keys"
}

cl_node_url() { echo "http://127.0.0.1:$((CL_BASE + 30 + $1))"; }

cl_node_start() {	# I [extra yimad args]
	local i=$1; shift
	mkdir -p "$CL_DIR/node$i"
	[ -f "$CL_DIR/node$i/patient.key" ] || install -m 0600 "$CL_DIR/patient.key" "$CL_DIR/node$i/patient.key"
	[ -f "$CL_DIR/node$i/log.key" ] || [ ! -f "$CL_DIR/log.key" ] ||
		install -m 0600 "$CL_DIR/log.key" "$CL_DIR/node$i/log.key"
	"$CL_BUILD/yimad" --db "$CL_DIR/node$i" --nats "$(cl_nats_urls)" --partitions "$CL_P" \
		--cluster "$CL_NAME" --listen "127.0.0.1:$((CL_BASE + 30 + i))" --insecure-http --quiet "$@" \
		>>"$CL_DIR/node$i.log" 2>&1 &
	echo $! > "$CL_DIR/node$i.pid"
}

cl_node_wait() {
	local i
	for i in "$@"; do cl_wait_http "$(cl_node_url "$i")/healthz" 120 || return 1; done
}

cl_node_kill9() {
	local pid
	pid=$(cat "$CL_DIR/node$1.pid" 2>/dev/null) || return 0
	kill -9 "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	rm -f "$CL_DIR/node$1.pid"
}

cl_node_stop() {
	local pid
	pid=$(cat "$CL_DIR/node$1.pid" 2>/dev/null) || return 0
	kill "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	rm -f "$CL_DIR/node$1.pid"
}

cl_stop_all() {
	local f pid
	for f in "$CL_DIR"/node*.pid; do
		[ -f "$f" ] || continue
		pid=$(cat "$f"); kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -f "$f"
	done
	for f in "$CL_DIR"/nats*.pid; do
		[ -f "$f" ] || continue
		pid=$(cat "$f"); kill "$pid" 2>/dev/null || true
		for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
		kill -9 "$pid" 2>/dev/null || true
		rm -f "$f"
	done
}

# The undecided claims and deferred operations of node I (its /metrics).
cl_node_gauge() {	# I NAME
	curl -fsS "$(cl_node_url "$1")/metrics" | awk -v n="$2" '$1 == n { print $2 }'
}

# Per-facility event files of a world (yima upload acts as one facility).
cl_split_world() {	# EVENTS.csv OUTDIR
	python3 - "$1" "$2" <<'PY'
import csv, os, sys
rows = list(csv.reader(open(sys.argv[1], newline="", encoding="utf-8", errors="surrogateescape")))
os.makedirs(sys.argv[2], exist_ok=True)
by = {}
ok = lambda f: 1 <= len(f) <= 20 and all(c.isdigit() or "A" <= c <= "Z" for c in f)
for r in rows[1:]:
    if len(r) > 1 and ok(r[1]):
        by.setdefault(r[1], []).append(r)
    elif len(r) <= 1 or r[1] == "":
        by.setdefault("H0001", []).append(r)   # no facility named: the uploader's
    # else: a facility field no certificate could own: not uploaded
for fac, rs in sorted(by.items()):
    with open(os.path.join(sys.argv[2], fac + ".csv"), "w", newline="", encoding="utf-8",
              errors="surrogateescape") as fo:
        w = csv.writer(fo, lineterminator="\n")
        w.writerow(rows[0])
        w.writerows(rs)
    print(fac, len(rs))
PY
}
