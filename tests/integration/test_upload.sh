#!/usr/bin/env bash
# `yima upload` and `yima settle` against the real yimad on loopback, with
# certificates made by scripts/certs (spec sections 5 and 6, issue 4):
#   - an upload's JSON lines are exactly what `yima ingest` prints for the
#     same file, and a rerun records nothing again;
#   - a certificate of another facility is refused (exit 1, the spool
#     keeps the batches, --drop removes one); no certificate, no service;
#   - rows piped into `yima upload -` reach the server within a second;
#   - kill -9 of the server several times during an upload: at the end
#     every row is in the ledger exactly once and `yima audit` passes;
#   - server away: exit 3, --status, then --flush delivers;
#   - settle: accept, retry (same verdict, recorded once), 409 conflict,
#     reject with its finding, dry run, bad claim files, --json.
#   test_upload.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$1 src=$2
y="$build/yima"
yimad="$build/yimad"
[ -x "$yimad" ] || { echo "test_upload: SKIPPED: no yimad built"; exit 77; }
t=$(mktemp -d)
# yima settle keeps the server's log key and checkpoint under the state
# directory: never the real one of whoever runs the tests
export XDG_STATE_HOME="$t/xdg"
server_pid=
stop_server() {
	if [ -n "$server_pid" ]; then
		kill "$server_pid" 2>/dev/null || true
		wait "$server_pid" 2>/dev/null || true
		server_pid=
	fi
}
trap 'stop_server; rm -rf "$t"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
expect_rc() {	# rc command...
	local want=$1; shift
	set +e; "$@" >"$t/out" 2>"$t/err"; local rc=$?; set -e
	[ "$rc" = "$want" ] || { cat "$t/out" "$t/err" >&2; fail "exit $rc, expected $want: $*"; }
}

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
url="https://localhost:$port"

# -- world: one facility's events, a ledger loaded with catalog and recalls --
"$y" gen --out "$t/w" --facilities 4 --products 40 --events 6000 --seed 7 --quiet
python3 - "$t/w/events.csv" "$t" <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1], newline="", encoding="utf-8", errors="surrogateescape")))
by = {}
for r in rows[1:]:
    if len(r) > 1 and r[1] in ("H0001", "H0002", "P0001"):
        by.setdefault(r[1], []).append(r)
for fac, rs in by.items():
    with open(f"{sys.argv[2]}/{fac}.csv", "w", newline="", encoding="utf-8",
              errors="surrogateescape") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(rows[0])
        w.writerows(rs)
PY
# a few rows the server records as BAD_RECORD: wrong field count travels raw
printf '2026-02-01T10:00:00+08:00,H0001,receive\n' >> "$t/H0001.csv"
printf '2026-02-01T10:00:00+08:00,H0001,receive,80737662762286112543,,,,,S0002,extra\n' >> "$t/H0001.csv"
load() {	# db
	"$y" catalog load --db "$1" --create "$t/w/catalog.csv" 2>/dev/null
	while read -r r; do "$y" recall add --db "$1" "$r" 2>/dev/null; done < "$t/w/recalls.txt"
}
records() {	# db: the record count yima audit finds
	"$y" audit --db "$1" | sed -n 's/^ok records=\([0-9]*\) .*/\1/p'
}

bash "$src/scripts/certs" "$t/pki" H0001 H0002 rogue:H0001 >/dev/null 2>&1
tls=(--cert "$t/pki/H0001.crt" --key "$t/pki/H0001.key" --ca "$t/pki/ca.crt")
start_server() {	# db
	"$yimad" --db "$1" --listen "127.0.0.1:$port" --tls-cert "$t/pki/server.crt" \
		--tls-key "$t/pki/server.key" --client-ca "$t/pki/ca.crt" --quiet \
		>>"$t/yimad.log" 2>&1 &
	server_pid=$!
	for _ in $(seq 100); do
		(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
		sleep 0.05
	done
	cat "$t/yimad.log" >&2
	fail "yimad did not start"
}

# -- an upload prints what ingest prints; a rerun records nothing -----------
load "$t/db"
load "$t/ref"
expect_rc 1 "$y" ingest --db "$t/ref" --create --out "$t/ref.jsonl" "$t/H0001.csv"
start_server "$t/db"
expect_rc 0 "$y" upload --server "$url" "${tls[@]}" --spool "$t/sp" --batch 300 \
	--out "$t/up.jsonl" "$t/H0001.csv"
grep -q "batches delivered (0 replayed)" "$t/err" || fail "summary: $(cat "$t/err")"
# the same lines but for "index": the log entries differ (yimad chains a
# record per batch, ingest one per refund-window setting)
noindex() { sed 's/"index":[0-9]*,//' "$1"; }
cmp -s <(noindex "$t/up.jsonl") <(noindex "$t/ref.jsonl") ||
	{ diff <(noindex "$t/up.jsonl") <(noindex "$t/ref.jsonl") | head >&2; fail "upload JSON differs from ingest"; }
# each line's index is its record's entry in yimad's log: increasing, and
# 300 events then the batch's own record
python3 - "$t/up.jsonl" <<'PY' || fail "upload indexes"
import json, sys
idx = [json.loads(l)["index"] for l in open(sys.argv[1])]
assert all(b == a + 1 or (i % 300 == 0 and b == a + 2) for i, (a, b) in enumerate(zip(idx, idx[1:]), 1)), idx[:20]
PY
grep -q '"reason":"9 fields expected' "$t/up.jsonl" || fail "raw rows are not BAD_RECORD"
expect_rc 0 "$y" upload --server "$url" "${tls[@]}" --spool "$t/sp" --batch 300 "$t/H0001.csv"
n=$(grep -c . "$t/ref.jsonl")
batches=$(( (n + 299) / 300 ))
grep -q "$batches batches delivered ($batches replayed)" "$t/err" || fail "rerun: $(cat "$t/err")"
expect_rc 0 "$y" upload --status --spool "$t/sp"
grep -q "nothing waits" "$t/out" || fail "status: $(cat "$t/out")"

# -- another facility's certificate: refused, kept, dropped -----------------
expect_rc 1 "$y" upload --server "$url" --cert "$t/pki/H0002.crt" --key "$t/pki/H0002.key" \
	--ca "$t/pki/ca.crt" --spool "$t/sp2" --batch 300 "$t/H0001.csv"
grep -q "403 forbidden_facility" "$t/err" || fail "no 403: $(cat "$t/err")"
id=$(sed -n 's/.*refused: batch \([^ ]*\) .*/\1/p' "$t/err")
[ -n "$id" ] || fail "no batch id in: $(cat "$t/err")"
expect_rc 0 "$y" upload --status --spool "$t/sp2"
grep -q "$batches batches, $n events waiting" "$t/out" || fail "status: $(cat "$t/out")"
expect_rc 0 "$y" upload --drop "$id" --spool "$t/sp2"
expect_rc 0 "$y" upload --status --spool "$t/sp2"
grep -q "$((batches - 1)) batch" "$t/out" || fail "status after drop: $(cat "$t/out")"
expect_rc 2 "$y" upload --drop "$id" --spool "$t/sp2"

# -- TLS set up wrong: no service, and no retrying either (issue 12) --------
# No client certificate, one from a CA yimad does not trust, a server
# certificate its --ca does not trust, a host name the certificate does not
# name: each stops at once (exit 2, with the default 600 s of retries),
# says why, and the spool keeps the batches.
tls_refused() {	# what-the-message-says upload-args...
	local says=$1; shift
	local t0=$SECONDS
	expect_rc 2 "$y" upload --server "$url" --spool "$t/sp3" "$@" "$t/H0001.csv"
	[ $((SECONDS - t0)) -lt 20 ] || fail "a TLS error was retried for $((SECONDS - t0)) s"
	grep -q "not retried" "$t/err" || fail "not said to be final: $(cat "$t/err")"
	grep -qi -- "$says" "$t/err" || fail "no '$says' in: $(cat "$t/err")"
	grep -q "wait in the spool" "$t/err" || fail "the spool's batches not mentioned: $(cat "$t/err")"
}
tls_refused "client certificate\\|certificate required" --ca "$t/pki/ca.crt"
tls_refused "unknown CA\\|client-ca\\|did not sign" --cert "$t/pki/rogue-H0001.crt" \
	--key "$t/pki/rogue-H0001.key" --ca "$t/pki/ca.crt"
tls_refused "certificate verify failed" "${tls[@]:0:4}" --ca "$t/pki/rogueca.crt"
expect_rc 0 "$y" upload --status --spool "$t/sp3"
grep -q "events waiting" "$t/out" || fail "the spool lost the refused batches: $(cat "$t/out")"
# a certificate for another address (yimad's names localhost and 127.0.0.1):
# a plain TLS server on 127.0.0.2 with it
port2=$(( port + 1 ))
openssl s_server -quiet -accept "127.0.0.2:$port2" -cert "$t/pki/server.crt" \
	-key "$t/pki/server.key" -www >/dev/null 2>&1 &
s_server=$!
for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.2/$port2") 2>/dev/null && break; sleep 0.1; done
url_local=$url url="https://127.0.0.2:$port2"
tls_refused "IP address mismatch" "${tls[@]}"
url=$url_local
kill "$s_server" 2>/dev/null; wait "$s_server" 2>/dev/null || true

# -- settle ----------------------------------------------------------------
# two packs H0001 holds whole, and one of another drug for a substitution
python3 - "$y" "$t/db" "$t/H0001.csv" > "$t/codes" <<'PY'
import csv, json, subprocess, sys
y, db, events = sys.argv[1:]
seen, held = set(), []
for r in list(csv.reader(open(events, newline="", encoding="utf-8", errors="surrogateescape")))[1:]:
    if len(r) != 9 or r[2] not in ("receive", "transfer_in") or r[3] in seen:
        continue
    seen.add(r[3])
    p = subprocess.run([y, "query", "--db", db, "--json", r[3]], capture_output=True, text=True)
    if p.returncode:
        continue
    j = json.loads(p.stdout)
    st = j["state"]
    if st["holder"] == "H0001" and j["drug"] and st["units_left"] and not st["destroyed"] \
            and all(h["type"] != "dispense" for h in j["history"]):
        held.append((j["code"], j["drug"], st["units_left"]))
    if len(held) == 3:
        break
for c in held:
    print(*c)
PY
[ "$(wc -l < "$t/codes")" = 3 ] || fail "no packs held to claim: $(cat "$t/codes")"
read -r c1 d1 u1 < <(sed -n 1p "$t/codes")
read -r c2 d2 _ < <(sed -n 2p "$t/codes")
read -r c3 _ _ < <(sed -n 3p "$t/codes")
hdr="facility,settlement,time,patient,drug,code,units"
tm="2026-03-01T10:00:00+08:00"
printf '%s\nH0001,ST-1,%s,PT1,%s,%s,1\nH0001,ST-1,%s,PT1,%s,%s,\n' "$hdr" "$tm" "$d1" "$c1" "$tm" "$d2" "$c2" > "$t/claim.csv"
expect_rc 0 "$y" settle --server "$url" "${tls[@]}" --dry-run "$t/claim.csv"
grep -q "settlement ST-1: accept (dry run" "$t/out" || fail "dry run: $(cat "$t/out")"
expect_rc 0 "$y" settle --server "$url" "${tls[@]}" "$t/claim.csv"
grep -q "^receipt: records" "$t/out" || fail "no receipt: $(cat "$t/out")"
grep -q "a retry" "$t/out" && fail "first settle replayed"
before=$(grep "^receipt" "$t/out")
expect_rc 0 "$y" settle --server "$url" "${tls[@]}" "$t/claim.csv"
grep -q "a retry" "$t/out" || fail "retry not replayed: $(cat "$t/out")"
[ "$(grep "^receipt" "$t/out" | sed 's/ (a retry.*//')" = "$before" ] || fail "retry answered another receipt"
sed 's/,1$/,2/' "$t/claim.csv" > "$t/claim2.csv"
expect_rc 1 "$y" settle --server "$url" "${tls[@]}" "$t/claim2.csv"
grep -q "conflict" "$t/err" || fail "409: $(cat "$t/err")"
# claimed as the wrong drug: rejected with SUBSTITUTED, nothing recorded as sold
printf '%s\nH0001,ST-2,%s,PT2,%s,%s,\n' "$hdr" "$tm" "$d1" "$c3" > "$t/claim3.csv"
expect_rc 1 "$y" settle --server "$url" "${tls[@]}" --json "$t/claim3.csv"
python3 -c 'import json,sys; v=json.load(open(sys.argv[1])); assert v["verdict"]=="reject" and "SUBSTITUTED" in v["codes"][0]["findings"], v' "$t/out" \
	|| fail "reject JSON: $(cat "$t/out")"
# a claim file that is not one, and a claim in another facility's name
printf '%s\nH0001,ST-3,%s,PT1,%s,%s,-1\n' "$hdr" "$tm" "$d1" "$c1" > "$t/bad.csv"
expect_rc 2 "$y" settle --server "$url" "${tls[@]}" "$t/bad.csv"
grep -q "data row 1 (line 2): column units" "$t/err" || fail "bad claim: $(cat "$t/err")"
sed 's/^H0001,/H0002,/' "$t/claim3.csv" > "$t/claim4.csv"
expect_rc 2 "$y" settle --server "$url" "${tls[@]}" "$t/claim4.csv"
grep -q "403 forbidden_facility" "$t/err" || fail "claim as another facility: $(cat "$t/err")"

# -- rows piped in reach the server within a second -------------------------
python3 - "$y" "$url" "$t" --cert "$t/pki/H0002.crt" --key "$t/pki/H0002.key" --ca "$t/pki/ca.crt" <<'PY'
import csv, io, os, subprocess, sys, time
y, url, t = sys.argv[1:4]
tls = sys.argv[4:]
rows = list(csv.reader(open(f"{t}/H0002.csv", newline="", encoding="utf-8", errors="surrogateescape")))
def line(r):
    s = io.StringIO(); csv.writer(s, lineterminator="\n").writerow(r); return s.getvalue().encode("utf-8", "surrogateescape")
out = f"{t}/stream.jsonl"
p = subprocess.Popen([y, "upload", "--server", url, *tls, "--spool", f"{t}/sp4", "--out", out, "-"],
                     stdin=subprocess.PIPE, stderr=subprocess.PIPE)
p.stdin.write(line(rows[0])); p.stdin.flush()
worst = 0
for i in range(1, 6):
    t0 = time.time()
    p.stdin.write(line(rows[i])); p.stdin.flush()
    while not (os.path.exists(out) and sum(1 for _ in open(out)) >= i):
        if time.time() - t0 > 5:
            break
        time.sleep(0.01)
    worst = max(worst, time.time() - t0)
    time.sleep(0.3)
p.stdin.close()
rc = p.wait()
err = p.stderr.read().decode()
assert rc == 0, (rc, err)
assert worst < 1.0, f"a piped row took {worst:.2f} s to come back"
assert "5 rows read" in err, err
PY

# -- kill -9 during an upload, several times: every row exactly once --------
stop_server
load "$t/db2"
load "$t/ref2"
expect_rc 1 "$y" ingest --db "$t/ref2" --create --out "$t/ref2.jsonl" "$t/H0001.csv"
start_server "$t/db2"
"$y" upload --server "$url" "${tls[@]}" --spool "$t/sp5" --batch 20 --retry-for 60 \
	--out "$t/kill.jsonl" "$t/H0001.csv" 2>"$t/kill.err" &
up=$!
n=$(grep -c . "$t/ref2.jsonl")
for at in $((n / 5)) $((n * 2 / 5)) $((n * 3 / 5)); do
	for _ in $(seq 600); do
		[ "$(cat "$t/kill.jsonl" 2>/dev/null | wc -l)" -ge "$at" ] && break
		sleep 0.02
	done
	[ "$(wc -l < "$t/kill.jsonl")" -lt "$n" ] || fail "the upload ended before the kill at row $at"
	kill -9 "$server_pid"
	wait "$server_pid" 2>/dev/null || true
	server_pid=
	sleep 0.3
	start_server "$t/db2"
done
set +e; wait "$up"; rc=$?; set -e
[ "$rc" = 0 ] || { cat "$t/kill.err" >&2; fail "upload through kills: exit $rc"; }
# each row once, with the line ingest gives it (a replayed receipt is
# rebuilt from the ledger, BAD_RECORD codes included)
python3 - "$t/ref2.jsonl" "$t/kill.jsonl" <<'PY'
import json, sys
ref = [json.loads(l) for l in open(sys.argv[1])]
got = {}
for l in open(sys.argv[2]):
    j = json.loads(l)
    got[j["line"]] = j
assert sorted(got) == [r["line"] for r in ref], "rows missing or extra"
key = lambda j: (j["line"], j["code"], j["verdict"], j["findings"], j.get("reason"))
bad = [(r, got[r["line"]]) for r in ref if key(r) != key(got[r["line"]])]
for r, g in bad[:5]:
    print("ingest", r, "\nupload", g, file=sys.stderr)
sys.exit(1 if bad else 0)
PY
stop_server
[ "$(records "$t/db2")" = "$(records "$t/ref2")" ] || fail "ledger records after kills: $(records "$t/db2") vs $(records "$t/ref2")"

# -- server away: give up (exit 3), --status, then --flush ------------------
expect_rc 3 "$y" upload --server "$url" "${tls[@]}" --spool "$t/sp6" --batch 20 --retry-for 1 "$t/H0001.csv"
grep -q "gave up: .*cannot connect" "$t/err" || fail "give up: $(cat "$t/err")"
expect_rc 0 "$y" upload --status --spool "$t/sp6"
grep -q "events waiting; oldest spooled" "$t/out" || fail "status: $(cat "$t/out")"
start_server "$t/db2"
expect_rc 0 "$y" upload --flush --server "$url" "${tls[@]}" --spool "$t/sp6"
expect_rc 0 "$y" upload --status --spool "$t/sp6"
grep -q "nothing waits" "$t/out" || fail "after flush: $(cat "$t/out")"
stop_server
[ "$(records "$t/db2")" = "$(records "$t/ref2")" ] || fail "a flushed rerun recorded again"
echo "test_upload: ok"
