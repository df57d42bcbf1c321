#!/usr/bin/env bash
# `yima recon` on a log whose truth is known: the shared example ingested,
# then a copy of its dispense rows with one discrepancy of each kind
# injected; each must be reported at exactly its line (or ledger seq), and
# the unmodified rows must add nothing new.
#   test_recon.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$1 src=$2
y="$build/yima"
ex="$src/tests/data/examples/day1"	# a copy of ../shared/examples/day1
[ -d "$ex" ] || { echo "test_recon: SKIPPED: no example at $ex"; exit 77; }
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT

"$y" catalog load --db "$t/db" --create "$ex/catalog.csv" 2>/dev/null
while read -r r; do "$y" recall add --db "$t/db" "$r" 2>/dev/null; done < "$ex/recalls.txt"
"$y" ingest --db "$t/db" --out "$t/ingest.jsonl" "$ex/events.csv" 2>/dev/null || true

python3 - "$ex/events.csv" "$t/ingest.jsonl" "$t" <<'PY'
import csv, json, sys
events, ingest, t = sys.argv[1:4]
rows = list(csv.reader(open(events, newline="", encoding="utf-8")))
hdr, data = rows[0], rows[1:]
verdicts = [json.loads(l) for l in open(ingest)]
# clean accepted whole-row dispenses with a normalized, unique claim key
ok = [i for i, (r, v) in enumerate(zip(data, verdicts))
      if r[2] == "dispense" and v["verdict"] == "accept" and r[5] != ""]
keys = {}
for i, (r, v) in enumerate(zip(data, verdicts)):
    if r[2] == "dispense" and len(r) == 9:
        keys.setdefault((r[1], r[6], v["code"]), []).append(i)
ok = [i for i in ok if len(keys[(data[i][1], data[i][6], verdicts[i]["code"])]) == 1]
drop, qty, drug = ok[10], ok[20], ok[30]
log, truth = [hdr], []
facs = set()
for i, r in enumerate(data):
    if r[2] != "dispense" or len(r) != 9 or i == drop:
        continue
    r = list(r)
    if i == qty:
        r[5] = str(int(r[5]) + 1)
    if i == drug:
        r[4] = "XNOTTHEDRUG"
    log.append(r)
    n = len(log) - 1
    if i == qty:
        truth.append(("QTY_MISMATCH", "line", n))
    if i == drug:
        truth.append(("DRUG_MISMATCH", "line", n))
# one sale the ledger never got
extra = list(data[ok[40]]); extra[6] = "NEVERUPLOADED1"
log.append(extra); truth.append(("NOT_UPLOADED", "line", len(log) - 1))
# the dropped row's ledger record is UNLOGGED (seq = its row number)
truth.append(("UNLOGGED", "seq", drop + 1))
w = csv.writer(open(t + "/log.csv", "w", newline="", encoding="utf-8"), lineterminator="\n")
w.writerows(log)
json.dump(truth, open(t + "/truth.json", "w"))
PY

set +e
"$y" recon --db "$t/db" "$ex/events.csv" > "$t/base.jsonl" 2>/dev/null
"$y" recon --db "$t/db" "$t/log.csv" > "$t/recon.jsonl" 2>"$t/err"
rc=$?
set -e
[ "$rc" = 1 ] || { cat "$t/err"; echo "FAIL: recon exit $rc, expected 1"; exit 1; }
grep -q "uploaded" "$t/err" || { echo "FAIL: no summary"; exit 1; }
python3 - "$t/truth.json" "$t/recon.jsonl" "$t/base.jsonl" <<'PY'
import json, sys
truth = json.load(open(sys.argv[1]))
got = [json.loads(l) for l in open(sys.argv[2])]
base = [json.loads(l) for l in open(sys.argv[3])]
for f, kind, n in truth:
    hits = [g for g in got if g["finding"] == f and g.get(kind) == n]
    assert hits, f"missing {f} at {kind} {n}"
for f in ("QTY_MISMATCH", "DRUG_MISMATCH", "NOT_UPLOADED", "UNLOGGED"):
    want = sorted(n for g, k, n in truth if g == f)
    have = sorted(g.get("line", g.get("seq")) for g in got if g["finding"] == f)
    assert want == have, (f, want, have)
# the original file against its own ledger: no discrepancy of the log's own
assert not [b for b in base if b["finding"] in
            ("NOT_UPLOADED", "UNLOGGED", "QTY_MISMATCH", "DRUG_MISMATCH")], base[:5]
assert all(set(b) >= {"finding", "code", "settlement"} for b in got + base)
PY
"$y" recon --db "$t/db" --format csv "$t/log.csv" > "$t/recon.csv" 2>/dev/null || true
head -1 "$t/recon.csv" | grep -q '^finding,line,seq,code,settlement' || { echo "FAIL: csv header"; exit 1; }
echo "test_recon: ok"
