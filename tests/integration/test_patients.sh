#!/usr/bin/env bash
# Spec section 7 end to end (issue 10): a generated world with limits,
# hoarders and resellers planted by `yima gen`, whose truth it writes
# (--truth-out: events.truth per row, patients.truth per planted patient).
#   * every planted hoarder's over-limit dispense (events.truth
#     OVER_QUANTITY) is flagged OVER_QUANTITY by `yima ingest`;
#   * every planted reseller with two or more returned packs is among
#     `yima suspects`' lines, found by `yima patient-key` of their id, with
#     at least that many packs;
#   * patient-key prints one lowercase hex hash per id in argument order and
#     never the key; the CSV form has one row per evidence item;
#   * the code history (`yima query`) shows no patient data; the ledger
#     audits clean (patient chains replayed and compared).
#   test_patients.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$1
y="$build/yima"
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

"$y" gen --out "$t/w" --events 60000 --facilities 10 --products 300 --days 40 --seed 7 \
	--limits 0.2 --hoarders 8 --resellers 8 --truth-out --quiet
head -1 "$t/w/catalog.csv" | grep -q ',max_units_30d$' || fail "catalog has no max_units_30d column"
[ "$(grep -c '^hoarder,' "$t/w/patients.truth")" = 8 ] || fail "8 hoarders planted"
[ "$(grep -c '^reseller,' "$t/w/patients.truth")" = 8 ] || fail "8 resellers planted"

"$y" init --db "$t/db" 2>/dev/null
"$y" catalog load --db "$t/db" "$t/w/catalog.csv" 2>/dev/null
while read -r r; do "$y" recall add --db "$t/db" "$r" 2>/dev/null; done < "$t/w/recalls.txt"
set +e
"$y" ingest --db "$t/db" --out "$t/out.jsonl" "$t/w/events.csv" 2>"$t/ingest.err"
rc=$?
set -e
[ "$rc" = 1 ] || { cat "$t/ingest.err" >&2; fail "ingest exited $rc (rows are rejected: 1)"; }

# patient-key: one hash per id, in order, never the key
mapfile -t ids < <(awk -F, 'NR > 1 {print $2}' "$t/w/patients.truth")
"$y" patient-key --db "$t/db" "${ids[@]}" > "$t/keys.txt"
[ "$(wc -l < "$t/keys.txt")" = "${#ids[@]}" ] || fail "patient-key: one line per id"
grep -qvE '^[0-9a-f]{64}$' "$t/keys.txt" && fail "patient-key: lowercase hex only"
key=$(head -c 64 "$t/db/patient.key")
grep -q "$key" "$t/keys.txt" && fail "patient-key printed the key"
[ "$("$y" patient-key --db "$t/db" "${ids[1]}" "${ids[0]}")" = \
  "$(sed -n 2p "$t/keys.txt")"$'\n'"$(sed -n 1p "$t/keys.txt")" ] || fail "patient-key: argument order"
set +e
"$y" patient-key --db "$t/db" 2>/dev/null; [ $? = 2 ] || fail "patient-key without ids: usage"
set -e

"$y" suspects --db "$t/db" > "$t/suspects.jsonl" 2>"$t/suspects.err"
grep -q '^suspects: ' "$t/suspects.err" || fail "suspects: summary on stderr"
"$y" suspects --db "$t/db" --format csv > "$t/suspects.csv" 2>/dev/null

python3 - "$t" <<'PY' || fail "truth not met (above)"
import csv, json, sys
t = sys.argv[1]
truth = open(t + "/w/events.truth").read().split("\n")
out = [json.loads(l) for l in open(t + "/out.jsonl")]
assert len(out) == 60000, len(out)
bad = 0
planted = [i for i, x in enumerate(truth[:60000]) if x == "OVER_QUANTITY"]
for i in planted:
    if "OVER_QUANTITY" not in out[i]["findings"]:
        print(f"row {i + 1}: a hoarder's over-limit dispense is {out[i]['verdict']} "
              f"{out[i]['findings']}", file=sys.stderr)
        bad += 1
if not planted:
    print("no over-limit dispense planted", file=sys.stderr)
    bad += 1
people = list(csv.DictReader(open(t + "/w/patients.truth")))
keys = open(t + "/keys.txt").read().split()
over = sum(int(p["over_limit"]) for p in people if p["kind"] == "hoarder")
if over != len(planted):
    print(f"patients.truth says {over} over-limit dispenses, events.truth {len(planted)}",
          file=sys.stderr)
    bad += 1
lines = [json.loads(l) for l in open(t + "/suspects.jsonl")]
by = {s["patient"]: s for s in lines}
resellers = 0
for p, k in zip(people, keys):
    if p["kind"] != "reseller" or int(p["returned"]) < 2:
        continue
    resellers += 1
    s = by.get(k)
    if s is None or s["packs"] < int(p["returned"]):
        print(f"reseller {p['patient']} ({p['returned']} packs back) not listed as such: {s}",
              file=sys.stderr)
        bad += 1
if resellers == 0:
    print("no reseller with two or more returned packs planted", file=sys.stderr)
    bad += 1
order = [(-s["packs"], -s["over_quantity"], s["patient"]) for s in lines]
if order != sorted(order):
    print("suspects not worst first", file=sys.stderr)
    bad += 1
rows = list(csv.DictReader(open(t + "/suspects.csv")))
if len(rows) != sum(len(s["evidence"]) for s in lines):
    print("CSV: one row per evidence item", file=sys.stderr)
    bad += 1
print(f"{len(planted)} over-limit dispenses flagged, {resellers} resellers listed "
      f"among {len(lines)} suspects", file=sys.stderr)
sys.exit(1 if bad else 0)
PY

# history shows no patient data: a planted reseller's pack, by its code
code=$(python3 -c "import json,sys; print(json.loads(open(sys.argv[1]).readline())['evidence'][0]['code'])" \
	"$t/suspects.jsonl")
"$y" query --db "$t/db" --json "$code" > "$t/query.json" || true
grep -q '"history"' "$t/query.json" || fail "query of $code"
grep -qi 'patient' "$t/query.json" && fail "query shows patient data"
while read -r k; do grep -q "$k" "$t/query.json" && fail "query shows a patient hash"; done < "$t/keys.txt"

"$y" audit --db "$t/db" > "$t/audit.txt" 2>&1 || { cat "$t/audit.txt" >&2; fail "audit"; }
tail -1 "$t/audit.txt" | grep -q '^ok records=60000 ' || fail "audit: $(tail -1 "$t/audit.txt")"
echo "test_patients: ok"
