#!/usr/bin/env bash
# End-to-end checks of the real `yima` binary: the shared worked example
# (every verdict as the spec gives it), exit codes of spec section 5,
# refusing a file twice, audit passing and catching tampering.
#   test_cli.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$1 src=$2
y="$build/yima"
ex="$src/tests/data/examples/day1"	# a copy of ../shared/examples/day1
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
expect_rc() {	# rc command...
	local want=$1; shift
	set +e; "$@" >"$t/out" 2>"$t/err"; local rc=$?; set -e
	[ "$rc" = "$want" ] || { cat "$t/err" >&2; fail "exit $rc, expected $want: $*"; }
}

# -- the worked example: every row agrees with expected.jsonl -----------------
[ -d "$ex" ] || { echo "test_cli: SKIPPED: no worked example at $ex"; exit 77; }
expect_rc 0 "$y" init --db "$t/db"
expect_rc 0 "$y" catalog load --db "$t/db" "$ex/catalog.csv"
while read -r r; do expect_rc 0 "$y" recall add --db "$t/db" "$r"; done < "$ex/recalls.txt"
expect_rc 1 "$y" ingest --db "$t/db" --out "$t/actual.jsonl" "$ex/events.csv"
python3 - "$ex/expected.jsonl" "$t/actual.jsonl" <<'PY'
import json, sys
exp = [json.loads(l) for l in open(sys.argv[1])]
act = [json.loads(l) for l in open(sys.argv[2])]
assert len(exp) == len(act), (len(exp), len(act))
bad = [(e, a) for e, a in zip(exp, act)
       if (e["line"], e["code"], e["verdict"], set(e["findings"])) !=
          (a["line"], a["code"], a["verdict"], set(a["findings"]))]
for e, a in bad[:10]:
    print("expected", e, "\n     got", a, file=sys.stderr)
sys.exit(1 if bad else 0)
PY
grep -q '"reason"' "$t/actual.jsonl" || fail "no reason on BAD_RECORD/MALFORMED rows"
# the same file again is refused whole, and nothing is recorded
expect_rc 0 "$y" audit --db "$t/db"
head=$(sed -n 's/^ok records=3000 head=\([0-9a-f]*\)$/\1/p' "$t/out")
[ -n "$head" ] || fail "audit line: $(cat "$t/out")"
expect_rc 2 "$y" ingest --db "$t/db" "$ex/events.csv"
expect_rc 0 "$y" audit --db "$t/db" --expect-head "$head"
expect_rc 1 "$y" audit --db "$t/db" --expect-head "00$head"
# patient ids never in clear
! grep -q 'PT[0-9]\{8\}' "$t/db/data.mdb" || fail "a patient id is stored in clear"
# query: any scanned form, JSON when not a terminal
expect_rc 0 "$y" query --db "$t/db" "]Q184542614858438476907"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["code"]=="84542614858438476907" and d["history"], d' "$t/out"
expect_rc 1 "$y" query --db "$t/db" "84542614858438476908"
expect_rc 1 "$y" query --db "$t/db" "12345"
# alerts: filters and counts over the recorded findings
expect_rc 1 "$y" alerts --db "$t/db" --facility H0001 --finding REUSED
python3 - "$t/out" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert rows and all(r["facility"] == "H0001" and "REUSED" in r["findings"] for r in rows), rows[:3]
PY
expect_rc 1 "$y" alerts --db "$t/db" --counts
python3 -c 'import json,sys; c=[json.loads(l) for l in open(sys.argv[1])]; assert c and c==sorted(c,key=lambda r:-r["count"]), c[:3]' "$t/out"
expect_rc 0 "$y" alerts --db "$t/db" --from 2030-01-01T00:00:00Z
expect_rc 2 "$y" alerts --db "$t/db" --finding NOPE
# tampering: change one settlement id inside a stored record
cp -r "$t/db" "$t/db2"
python3 - "$t/db2/data.mdb" <<'PY'
import sys
p = sys.argv[1]; d = open(p, "rb").read()
i = d.find(b"H00012601060072")
assert i >= 0
open(p, "wb").write(d[:i] + b"H00012601060073" + d[i + 15:])
PY
expect_rc 1 "$y" audit --db "$t/db2"
grep -q FAILED "$t/out" || fail "tampered ledger not reported"

# -- exit codes and bad input --------------------------------------------------
expect_rc 2 "$y"
expect_rc 2 "$y" frobnicate
expect_rc 0 "$y" ingest --help
expect_rc 2 "$y" ingest --db "$t/x" --create "$t/missing.csv"
printf 'a,b,c\n1,2,3\n' > "$t/badhdr.csv"
expect_rc 2 "$y" ingest --db "$t/x" --create "$t/badhdr.csv"
grep -q "header" "$t/err" || fail "bad header message"
# a binary file, a 4 MiB line and a broken quote: reported, never fatal
{
	echo "time,facility,type,code,drug,qty,settlement,patient,counterparty"
	head -c 4194304 /dev/zero | tr '\0' 'x'; echo
	echo '2026-03-01T10:00:00+08:00,H1,receive,81000010000000010001,,,,,S1'
	printf '2026-03-01T10:00:00+08:00,H1,receive,"81000010000\x0000010001",,,,,S1\n'
	echo '2026-03-01T10:00:00+08:00,H1,receive,"81000010000000020001,,,,,S1'
	echo '2026-03-01T10:00:00+08:00,H1,receive,81000010000000030001,,,,,S1'
} > "$t/nasty.csv"
expect_rc 1 "$y" ingest --db "$t/n" --create "$t/nasty.csv"
[ "$(wc -l < "$t/out")" = 4 ] || fail "expected 4 rows, got $(wc -l < "$t/out")"
sed -n 1p "$t/out" | grep -q BAD_RECORD || fail "4 MiB line not BAD_RECORD"
sed -n 2p "$t/out" | grep -q '"verdict":"warn"' || fail "row after a 4 MiB line lost"
sed -n 3p "$t/out" | grep -q MALFORMED || fail "NUL in a code is not MALFORMED"
sed -n 4p "$t/out" | grep -q BAD_RECORD || fail "unterminated quote is not one bad row"
expect_rc 0 "$y" audit --db "$t/n"
# numbers in flags: out of range (or past 2^64) is a usage error, never wrapped
expect_rc 2 "$y" ingest --db "$t/x" --refund-window-days 99999999999999999999999 "$t/badhdr.csv"
grep -q "refund-window-days" "$t/err" || fail "refund window flag: $(cat "$t/err")"
expect_rc 2 "$y" ingest --db "$t/x" --refund-window-days 4294967306 "$t/badhdr.csv"
expect_rc 2 "$y" ingest --db "$t/x" --batch 18446744073709551617 "$t/badhdr.csv"
expect_rc 2 "$y" gen --out "$t/g" --events 18446744073709551617
expect_rc 2 "$y" gen --out "$t/g" --facilities 4294967297
if [ -x "$build/yimad" ]; then
	expect_rc 2 "$build/yimad" --db "$t/x" --insecure-http --listen 127.0.0.1:1 --refund-window-days 18446744073709551626
	grep -q "refund-window-days" "$t/err" || fail "yimad refund window flag: $(cat "$t/err")"
	expect_rc 2 "$build/yimad" --db "$t/x" --insecure-http --listen 127.0.0.1:1 --max-body 18446744073709552640
fi
head -c 100000 /dev/urandom > "$t/random.bin"
expect_rc 2 "$y" ingest --db "$t/r" --create "$t/random.bin"

# -- a --db without a ledger: writing commands refuse it unless told --------
# (issue 12: `yima ingest --db typo/ledger` must not start a second ledger)
expect_rc 2 "$y" ingest --db "$t/typo/ledger" "$ex/events.csv"
grep -q "no ledger there.*yima init --db $t/typo/ledger.*--create" "$t/err" || fail "no hint: $(cat "$t/err")"
expect_rc 2 "$y" catalog load --db "$t/typo2" "$ex/catalog.csv"
expect_rc 2 "$y" recall add --db "$t/typo2" 1234567
[ ! -e "$t/typo" ] && [ ! -e "$t/typo2" ] || fail "a refused command created its --db"
mkdir "$t/empty"
expect_rc 2 "$y" ingest --db "$t/empty" "$ex/events.csv"
[ -z "$(ls -A "$t/empty")" ] || fail "a refused ingest wrote into an empty directory"
expect_rc 0 "$y" init --db "$t/empty"
expect_rc 0 "$y" init --db "$t/empty"		# a ledger is left as it is
grep -q "already holds a ledger" "$t/err" || fail "init twice: $(cat "$t/err")"
expect_rc 0 "$y" audit --db "$t/empty"
grep -q "^ok records=0 " "$t/out" || fail "a new ledger does not audit: $(cat "$t/out")"
mkdir "$t/full"; echo x > "$t/full/notes.txt"
expect_rc 2 "$y" init --db "$t/full"		# not over someone's files
expect_rc 2 "$y" recall add --db "$t/full" --create 1234567
[ ! -e "$t/full/data.mdb" ] || fail "a ledger was made among other files"
expect_rc 0 "$y" recall add --db "$t/made" --create 1234567
expect_rc 0 "$y" recall list --db "$t/made"
grep -qx 1234567 "$t/out" || fail "--create: $(cat "$t/out")"
expect_rc 2 "$y" query --db "$t/typo3" 84542614858438476907
expect_rc 2 "$y" audit --db "$t/empty2"

# -- help and version: one text per command, whichever way it is asked -------
expect_rc 0 "$y" --version
grep -Eqx 'yima [0-9]+\.[0-9]+\.[0-9]+' "$t/out" || fail "--version: $(cat "$t/out")"
for c in init catalog ingest query recall recon alerts report upload settle audit gen; do
	expect_rc 0 "$y" help "$c"; cp "$t/out" "$t/help1"
	expect_rc 0 "$y" "$c" --help
	cmp -s "$t/help1" "$t/out" || fail "yima help $c differs from yima $c --help"
	grep -q "^usage: yima $c" "$t/out" || fail "yima $c --help: $(head -1 "$t/out")"
done
expect_rc 2 "$y" help frobnicate
expect_rc 2 "$y" ingest --db "$t/db" --batch lots x.csv
grep -q -- "--batch: not a row count" "$t/err" || fail "bad flag value: $(cat "$t/err")"
expect_rc 2 "$y" ingest --db "$t/db" --no-such-flag x.csv
grep -q "unknown option --no-such-flag" "$t/err" || fail "unknown flag: $(cat "$t/err")"

# scripts/certs without arguments says how to use it (it once failed on an
# unbound variable)
expect_rc 2 bash "$src/scripts/certs"
grep -q "^usage: scripts/certs DIR" "$t/err" || fail "scripts/certs usage: $(cat "$t/err")"
expect_rc 0 bash "$src/scripts/certs" --help
grep -q "^usage: scripts/certs DIR" "$t/out" || fail "scripts/certs --help: $(cat "$t/out")"

# -- a plain date is a day in +08:00 for every time option --------------------
expect_rc 1 "$y" alerts --db "$t/db" --from 2026-01-13 --to 2026-01-13
cp "$t/out" "$t/by_date"
expect_rc 1 "$y" alerts --db "$t/db" --from 2026-01-13T00:00:00+08:00 --to 2026-01-13T23:59:59.999999999+08:00
cmp -s "$t/by_date" "$t/out" || fail "alerts --from/--to DATE is not that +08:00 day"
python3 - "$t/by_date" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert rows and all(r["time"].startswith("2026-01-13") for r in rows), rows[:2]
PY
expect_rc 2 "$y" alerts --db "$t/db" --from 2026-02-30
grep -q "day 30" "$t/err" || fail "impossible date: $(cat "$t/err")"

# -- places in files: "data row N (line L)", N as the JSON's "line" -----------
printf '\nproduct_id,drug_code,name,spec,pack_units\n\n1234567,D1,A,s,1\n1234568,D2,B,s,0\n' > "$t/cat2.csv"
expect_rc 1 "$y" catalog load --db "$t/db" "$t/cat2.csv"
grep -q "cat2.csv: data row 2 (line 5): " "$t/err" || fail "catalog bad row place: $(cat "$t/err")"
printf '\na,b,c\n1,2,3\n' > "$t/badhdr2.csv"
expect_rc 2 "$y" ingest --db "$t/db" "$t/badhdr2.csv"
grep -q "badhdr2.csv: header (line 2): header must be" "$t/err" || fail "header place: $(cat "$t/err")"

# -- alerts --format csv: RFC 4180 quoting (a settlement id with a comma, a
# quote, a newline) ------------------------------------------------------------
{
	echo "time,facility,type,code,drug,qty,settlement,patient,counterparty"
	echo '2026-03-01T10:00:00+08:00,H1,dispense,81000010000000010001,D1,,"S,1",,'
	echo '2026-03-01T10:00:00+08:00,H1,dispense,81000010000000020001,D1,,"S""2",,'
	printf '2026-03-01T10:00:00+08:00,H1,dispense,81000010000000030001,D1,,"S\n3",,\n'
} > "$t/stl.csv"
expect_rc 1 "$y" ingest --create --db "$t/al" "$t/stl.csv"
expect_rc 1 "$y" alerts --db "$t/al" --format csv
python3 - "$t/out" <<'PY' || fail "alerts CSV: $(cat "$t/out")"
import csv, sys
rows = list(csv.reader(open(sys.argv[1], newline="")))
assert rows[0] == "seq,time,facility,type,code,settlement,verdict,findings".split(","), rows[0]
assert all(len(r) == 8 for r in rows), rows
assert [r[5] for r in rows[1:]] == ["S,1", 'S"2', "S\n3"], rows
assert [r[2] for r in rows[1:]] == ["H1"] * 3 and rows[1][7] == "UNKNOWN_PRODUCT", rows
PY
expect_rc 1 "$y" alerts --db "$t/al" --format csv --counts
[ "$(cat "$t/out")" = "$(printf 'facility,finding,count\nH1,UNKNOWN_PRODUCT,3')" ] || fail "counts CSV: $(cat "$t/out")"

# -- crash: kill -9 in the middle of an ingest, run it again -----------------
# The rerun resumes after the last committed batch: every row is in the
# ledger exactly once and the audit passes.
"$y" gen --out "$t/w" --events 200000 --seed 5 --quiet
"$y" catalog load --db "$t/k" --create "$t/w/catalog.csv" 2>/dev/null
"$y" ingest --db "$t/k" --batch 5000 --out "$t/k1.jsonl" "$t/w/events.csv" 2>/dev/null &
pid=$!
sleep 0.4
kill -9 "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
set +e; "$y" ingest --db "$t/k" --batch 5000 --out "$t/k2.jsonl" "$t/w/events.csv" 2>"$t/k2.err"; rc=$?; set -e
[ "$rc" = 0 ] || [ "$rc" = 1 ] || { cat "$t/k2.err" >&2; fail "rerun after kill exited $rc"; }
expect_rc 0 "$y" audit --db "$t/k"
grep -q "^ok records=200000 " "$t/out" || fail "after kill + rerun: $(cat "$t/out")"
# the rerun printed the rows the killed run had not committed, numbered as in the file
last=$(tail -1 "$t/k2.jsonl" | sed 's/{"line":\([0-9]*\).*/\1/')
[ "$last" = 200000 ] || fail "rerun's last line is $last"
expect_rc 2 "$y" ingest --db "$t/k" "$t/w/events.csv"

# -- audit: a fault is corruption only when the ledger's pages caused it ------
# A file cut short: reads of its missing pages fault inside the ledger's map.
cp -r "$t/k" "$t/cut"
truncate -s $(( $(stat -c %s "$t/cut/data.mdb") / 3 )) "$t/cut/data.mdb"
expect_rc 1 "$y" audit --db "$t/cut"
grep -q "ledger environment is corrupt" "$t/err" || fail "cut file: $(cat "$t/err")"
# A SIGSEGV that is not a read of the ledger (here one sent by kill, once the
# audit catches it: its scratch directory exists) is the audit failing, not
# evidence of tampering: exit 2.
mkdir "$t/audit-tmp"
TMPDIR="$t/audit-tmp" "$y" audit --db "$t/k" >"$t/out" 2>"$t/err" &
pid=$!
while kill -0 "$pid" 2>/dev/null && ! compgen -G "$t/audit-tmp/yima-audit-*" >/dev/null; do :; done
kill -SEGV "$pid" 2>/dev/null || true
set +e; wait "$pid"; rc=$?; set -e
[ "$rc" = 2 ] || fail "audit sent SIGSEGV exited $rc: $(cat "$t/out" "$t/err")"
grep -q "says nothing about the ledger" "$t/err" || fail "SIGSEGV message: $(cat "$t/err")"
! grep -q corrupt "$t/err" || fail "a crash of the audit reported as corruption"
echo "test_cli: ok"
