#!/usr/bin/env bash
# The yima cluster on NATS JetStream (issue 13, docs/cluster.md), end to
# end on loopback: three nats-servers (JetStream, one NATS cluster, R=3)
# and three yimad nodes.
#   1. Uploads of a generated world through different nodes while, in
#      several rounds, one nats-server or one yimad at a time is killed -9
#      and restarted (each back to /healthz before the next kill): every
#      row is answered, the three nodes' audit lines are equal and hold
#      exactly the rows uploaded plus the claims' records.
#   2. Claims across partitions coordinated by one node that is killed -9
#      while they run: no claim half-applied, none left holding codes
#      (yimad_cluster_undecided 0 everywhere), none recorded twice, every
#      accepted claim's codes applied once.
#   3. Every partition's signed checkpoint is byte-identical on every node
#      (one log key, one origin); a node directory rebuilt from the streams
#      audits to the same line and signs the same checkpoints; a node of
#      another P is refused.
# Skipped (77) only when nats-server cannot be installed.
#   test_cluster.sh BUILD_DIR SOURCE_DIR [ROUNDS]
set -euo pipefail
build=$1 src=$2 rounds=${3:-${YIMA_CLUSTER_ROUNDS:-4}}
if ! command -v nats-server >/dev/null; then
	(apt-get install -y -qq nats-server >/dev/null 2>&1 || true)
	command -v nats-server >/dev/null || { echo "test_cluster: SKIPPED: nats-server cannot be installed"; exit 77; }
fi
y=$build/yima
t=$(mktemp -d)
CL_DIR=$t/cl CL_BUILD=$build CL_P=4 CL_NAME=t$$
# shellcheck source=../../scripts/cluster-lib.sh
. "$src/scripts/cluster-lib.sh"
trap 'cl_stop_all; [ -n "${YIMA_TEST_KEEP:-}" ] && echo "kept $t" || rm -rf "$t"' EXIT
fail() { echo "FAIL: $*" >&2; for f in "$CL_DIR"/node*.log; do echo "== $f" >&2; tail -5 "$f" >&2; done; exit 1; }
say() { echo "[$(date +%T)] $*"; }

cl_init
for i in 1 2 3; do cl_nats_start $i; done
cl_nats_wait 1 2 3
cl_keys
for i in 1 2 3; do cl_node_start $i; done
cl_node_wait 1 2 3
nats=$(cl_nats_urls)

# ---- the world -----------------------------------------------------------------
"$y" gen --out "$t/w" --facilities 6 --products 60 --days 20 --events 12000 --seed 11 --quiet
"$y" catalog load --nats "$nats" --cluster "$CL_NAME" "$t/w/catalog.csv" 2>/dev/null
while read -r r; do "$y" recall add --nats "$nats" --cluster "$CL_NAME" "$r" 2>/dev/null; done < "$t/w/recalls.txt"
cl_split_world "$t/w/events.csv" "$t/up" > "$t/split.txt"
rows=$(awk '{ s += $2 } END { print s }' "$t/split.txt")
say "uploading $rows rows of $(wc -l < "$t/split.txt") facilities through 3 nodes, $rounds kill -9 rounds"

# ---- 1. uploads while servers and nodes die ---------------------------------------------
# Each facility's file is fed row by row over ~25 s (yima upload - sends a
# part-filled batch 200 ms after its first row), so the kills land mid-upload.
pids=() i=0
while read -r fac n; do
	node=$(( i % 3 + 1 )); i=$((i + 1))
	python3 -c '
import sys, time
rows = open(sys.argv[1], encoding="utf-8", errors="surrogateescape", newline="").read().splitlines(True)
sys.stdout.write(rows[0])
step = 25.0 / max(1, len(rows) - 1)
for r in rows[1:]:
    sys.stdout.write(r); sys.stdout.flush(); time.sleep(step)
' "$t/up/$fac.csv" | "$y" upload --server "$(cl_node_url $node)" --spool "$t/spool-$fac" \
		--out "$t/up/$fac.jsonl" --batch 500 - 2>"$t/up/$fac.err" &
	pids+=($!)
done < "$t/split.txt"
victims=(nats1 node2 nats3 node1 nats2 node3 nats1 node2)
for ((r = 0; r < rounds; r++)); do
	sleep 2
	v=${victims[$((r % ${#victims[@]}))]}
	say "round $((r + 1)): kill -9 $v"
	case $v in
	nats*) cl_nats_kill9 "${v#nats}"; sleep 1; cl_nats_start "${v#nats}"; cl_nats_wait 1 2 3 ;;
	node*) cl_node_kill9 "${v#node}"; sleep 1; cl_node_start "${v#node}"; cl_node_wait "${v#node}" ;;
	esac
	say "round $((r + 1)): $v back"
done
for p in "${pids[@]}"; do wait "$p" || fail "an upload did not deliver everything (exit $?)"; done
while read -r fac n; do
	got=$(wc -l < "$t/up/$fac.jsonl")
	[ "$got" = "$n" ] || fail "$fac: $n rows sent, $got answered"
done < "$t/split.txt"
say "uploads: $rows rows answered"

# ---- 2. claims across partitions while their coordinator dies -------------------------
made=$(python3 "$src/tests/integration/cluster_claims.py" "$t/w/events.csv" "$t/w/catalog.csv" "$t/claims" 120 3)
[ "$made" = 120 ] || fail "the claim generator made $made claims, not 120"
settle_one() {	# claim file: retried on 5xx / no answer until a verdict
	local c=$1 k t0
	t0=$(date +%s.%N)
	for ((k = 0; k < 200; k++)); do
		set +e; "$y" settle --server "$(cl_node_url 2)" --json "$c" > "$c.out" 2>"$c.err"; local rc=$?; set -e
		if [ "$rc" -le 1 ]; then
			echo "$(echo "$(date +%s.%N) - $t0" | bc) $k $c" >> "$t/claim-times"
			return 0
		fi
		sleep 0.2
	done
	return 1
}
: > "$t/claim-times"
sps=()
for ((l = 0; l < 8; l++)); do	# eight clients at once, so claims are in flight at the kill
	( for ((c = l; c < made; c += 8)); do settle_one "$t/claims/claim-$c.csv" || exit 1; done ) &
	sps+=($!)
done
for _ in $(seq 200); do [ "$(wc -l < "$t/claim-times")" -ge 24 ] && break; sleep 0.05; done
say "kill -9 node2 (the claims' coordinator) after $(wc -l < "$t/claim-times") claims"
cl_node_kill9 2; sleep 1; cl_node_start 2; cl_node_wait 2
for p in "${sps[@]}"; do wait "$p" || fail "a claim got no verdict"; done
recovered=0
for i in 1 2 3; do recovered=$((recovered + $(cl_node_gauge $i yimad_cluster_recovered_total))); done
say "claims retried after the kill: $(awk '$2 > 0' "$t/claim-times" | wc -l); decided by another node: $recovered"
say "slowest claims (seconds, retries): $(sort -rn "$t/claim-times" | head -3 | awk '{ printf "%.1f/%d ", $1, $2 }')"
for i in 1 2 3; do
	for _ in $(seq 100); do [ "$(cl_node_gauge $i yimad_cluster_undecided)" = 0 ] && break; sleep 0.1; done
	[ "$(cl_node_gauge $i yimad_cluster_undecided)" = 0 ] || fail "node$i: claims left undecided"
	[ "$(cl_node_gauge $i yimad_cluster_deferred)" = 0 ] || fail "node$i: operations left waiting"
done
# every claim whole or not at all, and once (read from node1's views)
read -r claim_records accepted < <(python3 - "$y" "$CL_DIR/node1" "$t/claims" "$made" <<'PY') || fail "claims check failed"
import json, subprocess, sys
y, node, d, made = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
records = accepted = 0
for c in range(made):
    f = f"{d}/claim-{c}.csv"
    rows = [l.rstrip("\n").split(",") for l in open(f)][1:]
    applied = []
    for fac, stl, _t, _p, _d, code, _u in rows:
        q = subprocess.run([y, "query", "--db", node, "--json", code], capture_output=True, text=True)
        if q.returncode != 0:
            sys.exit(f"claim {c}: {code} not in {node}")
        mine = [e for e in json.loads(q.stdout)["history"]
                if e["settlement"] == stl and e["type"] == "dispense"]
        applied.append(sum(e["verdict"] != "reject" for e in mine))
        records += len(mine)
    if len(set(applied)) != 1:
        sys.exit(f"claim {c} half-applied: {applied}")
    if applied[0] > 1:
        sys.exit(f"claim {c} applied {applied[0]} times")
    verdict = json.load(open(f + ".out"))["verdict"]
    if verdict in ("accept", "warn"):
        if applied[0] != 1:
            sys.exit(f"claim {c} answered {verdict}, not applied")
        accepted += 1
print(records, accepted)
PY
say "claims: $made answered, $accepted accepted, $claim_records records"
# a run where every claim was refused would prove nothing of all-or-nothing
[ "$accepted" -ge $((made / 2)) ] || fail "only $accepted of $made claims accepted"

# ---- 3. every node, and a rebuilt one, the same ------------------------------------------
want=$((rows + claim_records))
for i in 1 2 3; do
	for _ in $(seq 100); do
		line=$("$y" audit --db "$CL_DIR/node$i" | tail -1)
		case $line in *" records=$want "*) break ;; esac
		sleep 0.2
	done
	echo "node$i: $line"
	case $line in "ok partitions=4 records=$want "*) ;; *) fail "node$i: $line (want records=$want)" ;; esac
	echo "$line" > "$t/audit$i"
done
cmp -s "$t/audit1" "$t/audit2" && cmp -s "$t/audit1" "$t/audit3" || fail "nodes differ"
# every partition's log the same on every node: one key, one origin, the
# same records: the same signed checkpoint
for k in 0 1 2 3; do
	for i in 1 2 3; do "$y" log checkpoint --db "$CL_DIR/node$i/p00$k" > "$t/cp$i"; done
	cmp -s "$t/cp1" "$t/cp2" && cmp -s "$t/cp1" "$t/cp3" || fail "p$k: the nodes' checkpoints differ"
done
head -1 "$t/cp1" | grep -q "^$CL_NAME.yima-cluster/p3$" || fail "checkpoint origin: $(head -1 "$t/cp1")"
mkdir -p "$t/fresh" && install -m 0600 "$CL_DIR/log.key" "$t/fresh/log.key"
"$y" cluster rebuild --nats "$nats" --cluster "$CL_NAME" --partitions 4 --db "$t/fresh" \
	--patient-key "$CL_DIR/patient.key" 2>/dev/null
line=$("$y" audit --db "$t/fresh" | tail -1)
echo "rebuilt: $line"
[ "$line" = "$(cat "$t/audit1")" ] || fail "the rebuilt node differs"
"$y" log checkpoint --db "$t/fresh/p003" | cmp -s - "$t/cp1" || fail "the rebuilt node's checkpoint differs"
mkdir -p "$t/other" && install -m 0600 "$CL_DIR/patient.key" "$t/other/patient.key"
set +e
"$build/yimad" --db "$t/other" --nats "$nats" --partitions 5 --cluster "$CL_NAME" \
	--listen 127.0.0.1:$((CL_BASE + 39)) --insecure-http > "$t/other.log" 2>&1
rc=$?
set -e
[ "$rc" = 2 ] && grep -q "has 4 partitions, not 5" "$t/other.log" || fail "a node of another P was not refused: $(cat "$t/other.log")"
say "ok: $rounds kill rounds, $rows rows and $made claims, every node and a rebuilt one: $line"
