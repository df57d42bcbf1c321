#!/usr/bin/env bash
# `yima recon` on generated logs whose truth is known (issue 5): a world of
# 20,000 events from `yima gen`; the dispense log of its busiest facility
# taken from it; then discrepancies of each kind injected at known places:
#   dropped uploads   rows left out of what the ledger ingested -> NOT_UPLOADED
#   extra uploads     ledger dispenses taken out of the log     -> UNLOGGED
#   changed qty       the log's qty changed                     -> QTY_MISMATCH
#   changed drug      the log's drug changed                    -> DRUG_MISMATCH
#   resold elsewhere  another facility's dispense of a log code -> RESOLD_ELSEWHERE
# The expected lines are computed here from spec section 5 and the
# generator's canonical codes (events.canon), not from recon's output: each
# kind must be found at exactly the expected lines, and the clean log
# against the ledger that ingested it must show none of the first four.
#   test_recon_truth.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$1
y="$build/yima"
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

"$y" gen --out "$t/w" --events 20000 --facilities 6 --products 300 --days 20 --seed 11 \
	--canon-out --quiet

# Build the logs, the ledger-B input and the expectations.
python3 - "$t" <<'PY'
import csv, json, random, sys
from datetime import datetime

t = sys.argv[1]
def read(p):
    with open(p, newline="", encoding="utf-8", errors="surrogateescape") as f:
        return list(csv.reader(f))
def write(p, rows):
    with open(p, "w", newline="", encoding="utf-8", errors="surrogateescape") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)

rows = read(t + "/w/events.csv")
hdr, data = rows[0], rows[1:]
canon = open(t + "/w/events.canon", encoding="utf-8").read().split("\n")[: len(data)]
assert len(canon) == len(data)
pack = {r[0]: int(r[4]) for r in read(t + "/w/catalog.csv")[1:]}

def product(c):  # spec section 1: 20 digits -> digits 1-7, GS1 -> the GTIN-14
    return c[:7] if len(c) == 20 and c.isdigit() else c[2:16]
def units(r, c):  # an empty qty is the pack's units (spec section 5)
    return int(r[5]) if r[5] else pack.get(product(c))
def instant(s):
    return datetime.fromisoformat(s.replace("Z", "+00:00").replace("z", "+00:00"))

# a ledger dispense record with a canonical code: a dispense row that
# parsed and normalized (the generator leaves canon empty otherwise)
def disp(rs, cs):
    return [(i, r, c) for i, (r, c) in enumerate(zip(rs, cs)) if c and r[2] == "dispense"]

facs = {}
for _, r, _ in disp(data, canon):
    facs[r[1]] = facs.get(r[1], 0) + 1
F = max(sorted(facs), key=lambda f: facs[f])

def expect(ledger_rows, ledger_canon, log_rows, log_canon):
    """Findings of spec section 5 for a log against a ledger that ingested
    ledger_rows in order (seq = 1-based position)."""
    recs = disp(ledger_rows, ledger_canon)
    by_key = {}
    for i, r, c in recs:
        by_key.setdefault((r[1], r[6], c), []).append((i, r))
    sold_at = {}
    for i, r, c in recs:
        sold_at.setdefault(c, set()).add(r[1])
    out = {k: [] for k in ("NOT_UPLOADED", "QTY_MISMATCH", "DRUG_MISMATCH",
                           "RESOLD_ELSEWHERE", "UNLOGGED")}
    keys, lfacs, times = set(), set(), []
    for n, (r, c) in enumerate(zip(log_rows, log_canon), 1):
        key = (r[1], r[6], c)
        keys.add(key); lfacs.add(r[1]); times.append(instant(r[0]))
        m = by_key.get(key)
        if not m:
            out["NOT_UPLOADED"].append(n)
        elif not any(units(x, c) == units(r, c) and x[4] == r[4] for _, x in m):
            # no record agrees: compared with the (here only) record
            assert len(m) == 1, key
            if units(m[0][1], c) != units(r, c):
                out["QTY_MISMATCH"].append(n)
            if m[0][1][4] != r[4]:
                out["DRUG_MISMATCH"].append(n)
        if sold_at.get(c, set()) - {r[1]}:
            out["RESOLD_ELSEWHERE"].append(n)
    lo, hi = min(times), max(times)
    for i, r, c in recs:
        if r[1] in lfacs and lo <= instant(r[0]) <= hi and (r[1], r[6], c) not in keys:
            out["UNLOGGED"].append(i + 1)
    return out

# -- ledger A: the world as generated; the clean log: F's dispenses -----------
log0 = [(r, c) for _, r, c in disp(data, canon) if r[1] == F]
write(t + "/clean.csv", [hdr] + [r for r, _ in log0])
exp0 = expect(data, canon, [r for r, _ in log0], [c for _, c in log0])
for k in ("NOT_UPLOADED", "QTY_MISMATCH", "DRUG_MISMATCH", "UNLOGGED"):
    assert exp0[k] == [], (k, exp0[k][:5])

# -- the injections ---------------------------------------------------------------
rng = random.Random(5)
keycount = {}
for i, r, c in disp(data, canon):
    keycount[(r[1], r[6], c)] = keycount.get((r[1], r[6], c), 0) + 1
fi = [i for i, r, c in disp(data, canon) if r[1] == F]
# candidates: one record per claim line, away from the ends of the log's
# time span, not already resold elsewhere
resold0 = {canon[fi[n - 1]] for n in exp0["RESOLD_ELSEWHERE"]}
cand = [i for i in fi[len(fi) // 10: -len(fi) // 10]
        if keycount[(data[i][1], data[i][6], canon[i])] == 1 and canon[i] not in resold0]
pick = rng.sample(cand, 50)
drop, unlog, qty, drug, resell = (set(pick[k * 10:(k + 1) * 10]) for k in range(5))
# a code may appear on several log rows: keep the sets' codes apart
assert not ({canon[i] for i in resell} & {canon[i] for i in pick if i not in resell})

# ledger B: without the dropped uploads, plus a sale of each resold code at
# a facility that is not in the world
ledger_b, canon_b = [], []
for i, (r, c) in enumerate(zip(data, canon)):
    if i not in drop:
        ledger_b.append(r); canon_b.append(c)
last = data[-1][0]
for k, i in enumerate(sorted(resell)):
    ledger_b.append([last, "X0001", "dispense", canon[i], data[i][4], "", "XS%04d" % k, "", ""])
    canon_b.append(canon[i])
write(t + "/ledger_b.csv", [hdr] + ledger_b)

# the log: F's own record of its sales, with the changes
log1, canon1, truth = [], [], {k: [] for k in exp0}
for i in fi:
    if i in unlog:
        truth["UNLOGGED"].append(ledger_b.index(data[i]) + 1)
        continue
    r = list(data[i])
    if i in qty:
        r[5] = str((units(r, canon[i]) or 1) + 1)
    if i in drug:
        r[4] = "XNOTTHEDRUG"
    log1.append(r); canon1.append(canon[i])
    n = len(log1)
    if i in drop:
        truth["NOT_UPLOADED"].append(n)
    if i in qty:
        truth["QTY_MISMATCH"].append(n)
    if i in drug:
        truth["DRUG_MISMATCH"].append(n)
    if i in resell:
        truth["RESOLD_ELSEWHERE"].append(n)
write(t + "/log.csv", [hdr] + log1)
exp1 = expect(ledger_b, canon_b, log1, canon1)
# the injected lines are exactly the new discrepancies: every resold code's
# lines (a code may be on several log rows) and nothing else
for k in ("NOT_UPLOADED", "QTY_MISMATCH", "DRUG_MISMATCH", "UNLOGGED"):
    assert sorted(truth[k]) == exp1[k], (k, truth[k], exp1[k])
    assert len(truth[k]) == 10, k
assert set(truth["RESOLD_ELSEWHERE"]) <= set(exp1["RESOLD_ELSEWHERE"])
json.dump({"clean": exp0, "log": exp1, "injected": truth, "facility": F}, open(t + "/expect.json", "w"))
PY

"$y" catalog load --db "$t/a" --create "$t/w/catalog.csv" 2>/dev/null
"$y" catalog load --db "$t/b" --create "$t/w/catalog.csv" 2>/dev/null
while read -r r; do
	"$y" recall add --db "$t/a" "$r" 2>/dev/null
	"$y" recall add --db "$t/b" "$r" 2>/dev/null
done < "$t/w/recalls.txt"
"$y" ingest --db "$t/a" --out /dev/null "$t/w/events.csv" 2>/dev/null || true
"$y" ingest --db "$t/b" --out /dev/null "$t/ledger_b.csv" 2>/dev/null || true

set +e
"$y" recon --db "$t/a" "$t/clean.csv" > "$t/clean.jsonl" 2>"$t/clean.err"; rc0=$?
"$y" recon --db "$t/b" "$t/log.csv" > "$t/log.jsonl" 2>"$t/log.err"; rc1=$?
set -e
[ "$rc0" = 0 ] || [ "$rc0" = 1 ] || { cat "$t/clean.err" >&2; fail "recon of the clean log exited $rc0"; }
[ "$rc1" = 1 ] || { cat "$t/log.err" >&2; fail "recon of the injected log exited $rc1, expected 1"; }

python3 - "$t" <<'PY'
import json, sys
t = sys.argv[1]
e = json.load(open(t + "/expect.json"))
def found(p):
    got = [json.loads(l) for l in open(p)]
    out = {k: sorted(g.get("seq" if k == "UNLOGGED" else "line") for g in got if g["finding"] == k)
           for k in e["log"]}
    bad = [g for g in got if g["finding"] in ("BAD_RECORD", "MALFORMED")]
    assert not bad, bad[:3]
    return out
ok = True
for name, exp in (("clean", e["clean"]), ("log", e["log"])):
    got = found(t + "/" + name + ".jsonl")
    for k in exp:
        if got[k] != exp[k]:
            ok = False
            print(f"{name}: {k}: expected {len(exp[k])} {exp[k][:10]}, found {len(got[k])} {got[k][:10]}"
                  f"; missing {sorted(set(exp[k]) - set(got[k]))[:10]}"
                  f", extra {sorted(set(got[k]) - set(exp[k]))[:10]}", file=sys.stderr)
got = found(t + "/log.jsonl")
for k, lines in e["injected"].items():
    missing = set(lines) - set(got[k])
    if missing:
        ok = False
        print(f"injected {k} not found at {sorted(missing)}", file=sys.stderr)
n = sum(len(v) for v in e["injected"].values())
print(f"test_recon_truth: facility {e['facility']}: {n} injected discrepancies found; "
      f"clean log: {len(e['clean']['RESOLD_ELSEWHERE'])} RESOLD_ELSEWHERE from the world, no other discrepancy")
sys.exit(0 if ok else 1)
PY
echo "test_recon_truth: ok"
