#!/usr/bin/env python3
"""cluster_claims.py - claim files for the cluster tests and demo.

  cluster_claims.py EVENTS.csv CATALOG.csv OUTDIR N [CODES_PER_CLAIM]

Writes OUTDIR/claim-<i>.csv: N claims (yima settle's format), each of
CODES_PER_CLAIM (default 3) packs one facility received and did not
dispense in EVENTS.csv (20-digit codes, so the drug comes from the
catalog's 7-digit product ids), every pack used once, so each claim is
expected to be accepted unless the verifier finds something in its
history; claims of different facilities alternate.
"""
import csv
import os
import sys

events, catalog, out, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
per = int(sys.argv[5]) if len(sys.argv) > 5 else 3
drug = {}
with open(catalog, newline="", encoding="utf-8") as f:
    for r in csv.DictReader(f):
        drug[r["product_id"]] = r["drug_code"]
held, gone = {}, set()
with open(events, newline="", encoding="utf-8", errors="surrogateescape") as f:
    rows = csv.reader(f)
    next(rows)
    for r in rows:
        if len(r) != 9:
            continue
        t, fac, typ, code = r[0], r[1], r[2], r[3]
        if len(code) != 20 or not code.isdigit():
            continue
        if typ in ("receive", "transfer_in", "stocktake") and code not in gone:
            held[code] = fac
        else:
            gone.add(code)
            held.pop(code, None)
by = {}
for code, fac in held.items():
    if code[:7] in drug:
        by.setdefault(fac, []).append(code)
facs = sorted(by)
os.makedirs(out, exist_ok=True)
made = 0
i = 0
while made < n and any(len(by[f]) >= per for f in facs):
    fac = facs[i % len(facs)]
    i += 1
    if len(by[fac]) < per:
        continue
    codes = [by[fac].pop() for _ in range(per)]
    with open(os.path.join(out, f"claim-{made}.csv"), "w", encoding="utf-8") as fo:
        fo.write("facility,settlement,time,patient,drug,code,units\n")
        for c in codes:
            fo.write(f"{fac},CL-{made},2026-03-01T10:00:00+08:00,PAT{made % 97},{drug[c[:7]]},{c},\n")
    made += 1
print(made)
