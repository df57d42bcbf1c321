#!/usr/bin/env bash
# The verifiable log end to end (spec section 8, issue 11):
#   - yima init --log-origin, log.key 0600; yima log checkpoint and vkey in
#     the C2SP formats, the signature and key id checked with openssl alone;
#   - yima log prove / verify: an entry with its inclusion proof, two
#     checkpoints with a consistency proof; refused (exit 1): a flipped byte
#     in an entry, a checkpoint edited, one signed by another key, a ledger
#     that dropped a record (its checkpoint does not extend the old one), the
#     wrong key;
#   - yima report embeds the evidence and yima log verify --report checks it;
#     a row edited in the page is refused;
#   - a ledger from before the log: read-only without one, gets it on a write,
#     audits clean;
#   - yimad: /checkpoint, hash tiles (contents = the entries' leaf hashes),
#     entry bundles to regulators only, the public listener, cache headers,
#     /v1/log/consistency; receipts and claim verdicts checked by the clients;
#   - a forked server (the same key, another history): yima upload and yima
#     settle say so, exit 1, naming both checkpoints.
#   test_log.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$1 src=$2
y="$build/yima"
yimad="$build/yimad"
[ -x "$yimad" ] || { echo "test_log: SKIPPED: no yimad built"; exit 77; }
command -v curl >/dev/null || { echo "test_log: SKIPPED: no curl"; exit 77; }
t=$(mktemp -d)
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

# -- a ledger and its log --------------------------------------------------
"$y" gen --out "$t/w" --facilities 3 --products 30 --events 1500 --seed 11 --quiet
head -701 "$t/w/events.csv" > "$t/a.csv"
{ head -1 "$t/w/events.csv"; sed -n '702,1501p' "$t/w/events.csv"; } > "$t/b.csv"
expect_rc 0 "$y" init --db "$t/L" --log-origin test.example/yima
[ "$(stat -c %a "$t/L/log.key")" = 600 ] || fail "log.key mode $(stat -c %a "$t/L/log.key")"
grep -q 'BEGIN PRIVATE KEY' "$t/L/log.key" || fail "log.key is not PEM PKCS#8"
"$y" catalog load --db "$t/L" "$t/w/catalog.csv" 2>/dev/null
expect_rc 1 "$y" ingest --db "$t/L" --out "$t/a.jsonl" "$t/a.csv"
cp -r "$t/L" "$t/L-fork"		# the same key, from here another history
"$y" log checkpoint --db "$t/L" > "$t/cp1"
"$y" log vkey --db "$t/L" > "$t/vkey"
vkey=$(cat "$t/vkey")
python3 - "$t/cp1" "$vkey" <<'PY' || fail "checkpoint or vkey format"
import base64, re, sys
text = open(sys.argv[1], encoding="utf-8").read()
body, sig = text.split("\n\n")
origin, size, root = body.split("\n")[:3]
assert origin == "test.example/yima" and size.isdigit() and len(base64.b64decode(root)) == 32, body
assert re.fullmatch(r"\u2014 test\.example/yima [A-Za-z0-9+/]+=*\n", sig), sig
name, keyid, key = sys.argv[2].split("+", 2)
assert name == origin and re.fullmatch(r"[0-9a-f]{8}", keyid), sys.argv[2]
k = base64.b64decode(key)
assert len(k) == 33 and k[0] == 1
assert base64.b64decode(sig.split()[2])[:4].hex() == keyid, "key id in the signature line"
PY
# the signature with openssl alone (docs/log.md's recipe)
NAME=${vkey%%+*}
KEY=${vkey#*+}; KEY=${KEY#*+}	# the third field (base64 may hold a +)
printf '%s' "$KEY" | base64 -d | tail -c 32 > "$t/pub.raw"
{ printf '\x30\x2a\x30\x05\x06\x03\x2b\x65\x70\x03\x21\x00'; cat "$t/pub.raw"; } > "$t/pub.der"
sed '/^$/,$d' "$t/cp1" > "$t/text"
grep "^— $NAME " "$t/cp1" | cut -d' ' -f3 | base64 -d | tail -c 64 > "$t/sig"
openssl pkeyutl -verify -pubin -inkey "$t/pub.der" -keyform DER -rawin -in "$t/text" \
	-sigfile "$t/sig" >/dev/null || fail "openssl does not verify the checkpoint"
id=$({ printf '%s\n\001' "$NAME"; cat "$t/pub.raw"; } | openssl dgst -sha256 -binary | head -c 4 | od -An -tx1 | tr -d ' \n')
[ "$id" = "$(echo "$vkey" | cut -d+ -f2)" ] || fail "key id $id"

# -- prove and verify ------------------------------------------------------
expect_rc 0 "$y" log verify --vkey "$vkey" --checkpoint "$t/cp1"
idx=$(sed -n '100p' "$t/a.jsonl" | sed 's/.*"index":\([0-9]*\).*/\1/')
"$y" log prove --db "$t/L" --index "$idx" --entry-out "$t/e" > "$t/p"
expect_rc 0 "$y" log verify --vkey "$t/vkey" --checkpoint "$t/cp1" --entry "$t/e" --proof "$t/p"
grep -q "^ok entry $idx " "$t/out" || fail "inclusion: $(cat "$t/out")"
python3 -c 'import sys; b = bytearray(open(sys.argv[1], "rb").read()); b[20] ^= 1; open(sys.argv[2], "wb").write(b)' \
	"$t/e" "$t/e-flipped"
expect_rc 1 "$y" log verify --vkey "$vkey" --checkpoint "$t/cp1" --entry "$t/e-flipped" --proof "$t/p"
grep -q "^FAILED: entry is not in the checkpoint's tree" "$t/out" || fail "flipped entry: $(cat "$t/out")"
sed '2s/^\([0-9]*\)$/1\1/' "$t/cp1" > "$t/cp-edited"
expect_rc 1 "$y" log verify --vkey "$vkey" --checkpoint "$t/cp-edited"
grep -q "^FAILED: checkpoint" "$t/out" || fail "edited checkpoint: $(cat "$t/out")"
"$y" init --db "$t/other" --log-origin test.example/yima 2>/dev/null
"$y" catalog load --db "$t/other" "$t/w/catalog.csv" 2>/dev/null
"$y" log checkpoint --db "$t/other" > "$t/cp-other"
expect_rc 1 "$y" log verify --vkey "$vkey" --checkpoint "$t/cp-other"
expect_rc 2 "$y" log verify --vkey "not a key" --checkpoint "$t/cp1"
# consistency: the log grows
expect_rc 1 "$y" ingest --db "$t/L" "$t/b.csv"
"$y" log checkpoint --db "$t/L" > "$t/cp2"
old=$(sed -n 2p "$t/cp1")
"$y" log prove --db "$t/L" --consistency "$old" > "$t/pc"
expect_rc 0 "$y" log verify --vkey "$vkey" --checkpoint "$t/cp2" --old-checkpoint "$t/cp1" --proof "$t/pc"
expect_rc 1 "$y" log verify --vkey "$vkey" --checkpoint "$t/cp1" --old-checkpoint "$t/cp2" --proof "$t/pc"
# a ledger that dropped a record (rebuilt with the same key): its
# checkpoint does not extend the first one
python3 - "$t/a.csv" "$t/a-dropped.csv" <<'PY'
import sys
lines = open(sys.argv[1], encoding="utf-8", errors="surrogateescape").read().split("\n")
del lines[300]
open(sys.argv[2], "w", encoding="utf-8", errors="surrogateescape").write("\n".join(lines))
PY
mkdir "$t/D" && cp "$t/L/log.key" "$t/D/" && chmod 600 "$t/D/log.key"
expect_rc 0 "$y" init --db "$t/D" --log-origin test.example/yima
"$y" catalog load --db "$t/D" "$t/w/catalog.csv" 2>/dev/null
expect_rc 1 "$y" ingest --db "$t/D" "$t/a-dropped.csv"
expect_rc 1 "$y" ingest --db "$t/D" "$t/b.csv"
[ "$("$y" log vkey --db "$t/D")" = "$vkey" ] || fail "the dropped ledger has another key"
"$y" log checkpoint --db "$t/D" > "$t/cp-dropped"
"$y" log prove --db "$t/D" --consistency "$old" > "$t/pd"
expect_rc 0 "$y" log verify --vkey "$vkey" --checkpoint "$t/cp-dropped"
expect_rc 1 "$y" log verify --vkey "$vkey" --checkpoint "$t/cp-dropped" --old-checkpoint "$t/cp1" --proof "$t/pd"
grep -q "^FAILED: the checkpoints are not consistent" "$t/out" || fail "dropped record: $(cat "$t/out")"
expect_rc 0 "$y" audit --db "$t/L"

# -- the report --------------------------------------------------------------
fac=$(awk -F, 'NR == 2 {print $2}' "$t/a.csv")
expect_rc 0 "$y" report --db "$t/L" --facility "$fac" --from 2000-01-01 --to 2100-01-01 --out "$t/r.html"
rows=$(grep -c '<tr id="seq-' "$t/r.html")
[ "$rows" -gt 0 ] || fail "no evidence rows"
[ "$(grep -c 'class="log-entry"' "$t/r.html")" = "$rows" ] || fail "not every row has its entry"
expect_rc 0 "$y" log verify --vkey "$vkey" --report "$t/r.html"
grep -q "^ok report: $rows evidence rows" "$t/out" || fail "report: $(cat "$t/out")"
# docs/log.md's standard-tools recipe, taken from the page it is on
python3 - "$src/docs/log.md" "$t/r.html" "$rows" <<'PY' || fail "docs/log.md's Python recipe"
import base64, html, re, sys
doc = open(sys.argv[1], encoding="utf-8").read()
code = doc[doc.index("        import base64, hashlib"):doc.index("        # root_from")]
ns = {}
exec("\n".join(l[8:] for l in code.split("\n")), ns)
page = open(sys.argv[2], encoding="utf-8").read()
cp = html.unescape(re.search(r'<pre id="log-checkpoint">(.*?)</pre>', page, re.S).group(1)).split("\n")
size, root = int(cp[1]), base64.b64decode(cp[2])
found = re.findall(r'<tr class="log-entry" id="entry-\d+"><td class="num">\d+</td><td class="num">(\d+)</td>'
                   r'<td><code class="b64">([^<]*)</code></td><td><code class="proof">([^<]*)</code>', page)
assert len(found) == int(sys.argv[3]), len(found)
for idx, b64, proof in found:
    assert ns["root_from"](b64, int(idx), size, proof) == root, idx
    bad = bytearray(base64.b64decode(b64)); bad[0] ^= 1
    assert ns["root_from"](base64.b64encode(bad).decode(), int(idx), size, proof) != root
PY
sed '0,/<td class="v-reject">reject</s//<td class="v-reject">warn</' "$t/r.html" > "$t/r2.html"
cmp -s "$t/r.html" "$t/r2.html" && fail "the edit did not happen"
expect_rc 1 "$y" log verify --vkey "$vkey" --report "$t/r2.html"
grep -q "is not what its entry" "$t/out" || fail "edited row: $(cat "$t/out")"
"$y" log vkey --db "$t/other" > "$t/vkey-other"
expect_rc 1 "$y" log verify --vkey "$t/vkey-other" --report "$t/r.html"

# -- a ledger from before the log ----------------------------------------------
mkdir -p "$t/old" && gzip -dc "$src/tests/fixtures/ledger-v1-batches/data.mdb.gz" > "$t/old/data.mdb"
expect_rc 2 "$y" log checkpoint --db "$t/old"
grep -q "no log yet" "$t/err" || fail "old ledger: $(cat "$t/err")"
expect_rc 0 "$y" audit --db "$t/old"
expect_rc 0 "$y" recall add --db "$t/old" 8100009
expect_rc 0 "$y" audit --db "$t/old"
expect_rc 0 "$y" log checkpoint --db "$t/old"
grep -q "^yima\." "$t/out" || fail "default origin: $(head -1 "$t/out")"
[ "$(sed -n 2p "$t/out")" = 10 ] || fail "5 events and 5 admin records: $(cat "$t/out")"

# -- yimad serves the log --------------------------------------------------------
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
pport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
bash "$src/scripts/certs" "$t/pki" H0001 reg:REG1 >/dev/null 2>&1
start_server() {	# db
	"$yimad" --db "$1" --listen "127.0.0.1:$port" --public-listen "127.0.0.1:$pport" \
		--tls-cert "$t/pki/server.crt" --tls-key "$t/pki/server.key" --client-ca "$t/pki/ca.crt" \
		--regulator-ca "$t/pki/regca.crt" --quiet >>"$t/yimad.log" 2>&1 &
	server_pid=$!
	for _ in $(seq 100); do
		(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
		sleep 0.05
	done
	fail "yimad did not start: $(cat "$t/yimad.log")"
}
get() {	# who path [public]: prints "status cache-control", body in $t/body
	local base="https://localhost:$port" auth=(--cert "$t/pki/$1.crt" --key "$t/pki/$1.key")
	[ "${3:-}" = public ] && { base="https://localhost:$pport"; auth=(); }
	curl -s --cacert "$t/pki/ca.crt" "${auth[@]}" -D "$t/hdr" -o "$t/body" "$base$2"
	printf '%s %s\n' "$(head -1 "$t/hdr" | cut -d' ' -f2)" \
		"$(grep -i '^cache-control:' "$t/hdr" | cut -d' ' -f2- | tr -d '\r')"
}
start_server "$t/L"
size=$(sed -n 2p "$t/cp2")
[ "$(get H0001 /checkpoint)" = "200 no-cache" ] || fail "checkpoint: $(cat "$t/hdr")"
cmp -s "$t/body" "$t/cp2" || fail "/checkpoint is not the ledger's"
[ "$(get H0001 /tile/0/000)" = "200 public, max-age=31536000, immutable" ] || fail "full tile"
cp "$t/body" "$t/tile0"
[ "$(get REG1 /tile/entries/000)" = "200 private, max-age=31536000, immutable" ] || fail "bundle as regulator"
python3 - "$t/tile0" "$t/body" <<'PY' || fail "tile 0 is not the leaf hashes of bundle 0"
import hashlib, sys
tile, bundle = open(sys.argv[1], "rb").read(), open(sys.argv[2], "rb").read()
assert len(tile) == 256 * 32
i, leaves = 0, []
while i < len(bundle):
    n = int.from_bytes(bundle[i:i + 2], "big")
    leaves.append(hashlib.sha256(b"\0" + bundle[i + 2:i + 2 + n]).digest())
    i += 2 + n
assert b"".join(leaves) == tile, len(leaves)
PY
[ "$(get H0001 /tile/entries/000 | cut -d' ' -f1)" = 403 ] || fail "bundle to a facility"
w=$(( size % 256 )); n=$(( size / 256 ))
[ "$(get H0001 "/tile/0/$(printf '%03d' "$n").p/$w")" = "200 public, max-age=60" ] || fail "partial tile"
[ "$(wc -c < "$t/body")" = $(( w * 32 )) ] || fail "partial tile size"
[ "$(get H0001 "/tile/0/$(printf '%03d' $(( n + 1 )))" | cut -d' ' -f1)" = 404 ] || fail "a tile past the tree"
[ "$(get H0001 /tile/0/0 | cut -d' ' -f1)" = 404 ] || fail "a non-canonical tile path"
[ "$(get x /checkpoint public)" = "200 no-cache" ] || fail "checkpoint on the public listener"
[ "$(get x /tile/0/000 public | cut -d' ' -f1)" = 200 ] || fail "hash tile on the public listener"
[ "$(get x /tile/entries/000 public | cut -d' ' -f1)" = 403 ] || fail "bundle on the public listener"
[ "$(get H0001 "/v1/log/consistency?old=$old&new=$size" | cut -d' ' -f1)" = 200 ] || fail "consistency"
[ "$(get H0001 "/v1/log/consistency?old=x" | cut -d' ' -f1)" = 400 ] || fail "bad consistency query"
code=$(curl -s --cacert "$t/pki/ca.crt" --cert "$t/pki/H0001.crt" --key "$t/pki/H0001.key" \
	-o /dev/null -w '%{http_code}' -X POST --data-binary "" "https://localhost:$port/checkpoint")
[ "$code" = 405 ] || fail "POST /checkpoint: $code"

# -- clients check the log: upload and settle --------------------------------------
tls=(--cert "$t/pki/H0001.crt" --key "$t/pki/H0001.key" --ca "$t/pki/ca.crt")
grep -m 60 -h ',H0001,' "$t/w/events.csv" > "$t/rows"
{ head -1 "$t/a.csv"; head -30 "$t/rows"; } > "$t/u1.csv"
{ head -1 "$t/a.csv"; sed -n '31,60p' "$t/rows"; } > "$t/u2.csv"
url="https://localhost:$port"
expect_rc 0 "$y" upload --server "$url" "${tls[@]}" --spool "$t/sp" --log-key "$vkey" "$t/u1.csv"
state=$(ls "$t"/sp/log-*.state)
[ "$(head -1 "$state")" = "$vkey" ] || fail "state key"
expect_rc 0 "$y" upload --server "$url" "${tls[@]}" --spool "$t/sp" "$t/u2.csv"
[ "$(sed -n 3p "$state")" = "$(curl -s --cacert "$t/pki/ca.crt" "https://localhost:$pport/checkpoint" | sed -n 2p)" ] ||
	fail "the kept checkpoint is not the server's latest"
expect_rc 1 "$y" upload --server "$url" "${tls[@]}" --spool "$t/sp-other" --log-key "$(cat "$t/vkey-other")" "$t/u1.csv"
grep -q "does not verify with the log key" "$t/err" || fail "another key: $(cat "$t/err")"
printf 'facility,settlement,time,patient,drug,code,units\n' > "$t/claim.csv"
dcode=$(awk -F, '$2 == "H0001" && $3 == "receive" {print $4; exit}' "$t/w/events.csv")
drug=$(awk -F, -v p="${dcode:0:7}" '$1 == p {print $2}' "$t/w/catalog.csv")
printf 'H0001,LOG-1,2026-12-01T10:00:00+08:00,PT,%s,%s,\n' "${drug:-X}" "$dcode" >> "$t/claim.csv"
set +e; "$y" settle --server "$url" "${tls[@]}" --state "$t/st" --json "$t/claim.csv" >"$t/out" 2>"$t/err"; rc=$?; set -e
[ "$rc" = 0 ] || [ "$rc" = 1 ] || fail "settle: exit $rc: $(cat "$t/err")"
grep -q '"index":' "$t/out" || fail "settle --json has no index: $(cat "$t/out")"
grep -q "trusting the log key $vkey" "$t/err" || fail "first contact: $(cat "$t/err")"
ls "$t"/st/log-*.state >/dev/null || fail "settle kept no state"
cp "$state" "$t/state-before"
stop_server

# -- a forked server: the same key, another history -------------------------------
# L-fork is L right after a.csv (the same key): give it other rows than L
# got, so its tree leaves L's there.
expect_rc 1 "$y" ingest --db "$t/L-fork" "$t/a-dropped.csv"
start_server "$t/L-fork"
expect_rc 1 "$y" upload --server "$url" "${tls[@]}" --spool "$t/sp" "$t/u1.csv"
grep -q "THE SERVER'S LOG IS NOT WHAT IT WAS" "$t/err" || fail "fork not reported: $(cat "$t/err")"
grep -q "checkpoint test.example/yima size [0-9]* root .* and checkpoint size [0-9]* root" "$t/err" ||
	fail "the two checkpoints are not named: $(cat "$t/err")"
ls "$t"/sp/log-*.fork-* >/dev/null || fail "the forked checkpoint is not kept as evidence"
cmp -s "$state" "$t/state-before" || fail "the kept checkpoint moved to the fork"
sed -i 's/LOG-1/LOG-2/' "$t/claim.csv"
expect_rc 1 "$y" settle --server "$url" "${tls[@]}" --state "$t/st" "$t/claim.csv"
grep -q "THE SERVER'S LOG DOES NOT CHECK" "$t/err" || fail "settle fork: $(cat "$t/err")"
stop_server
echo "log: ok"
