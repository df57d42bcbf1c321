#!/usr/bin/env bash
# The Python client of docs/protocol.md ("A client in Python"), run as the
# document shows it: yima_pb2.py generated from proto/yima.proto with
# protoc --python_out, then the example posts claims to a real yimad on
# loopback (plain HTTP, --insecure-http) and its verdicts are checked: an
# accepted claim, a substituted drug rejected, an empty code MALFORMED, a
# pack held elsewhere warned.
# Also: the proto's service block names every protobuf endpoint.
#   test_protocol_py.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$(cd "$1" && pwd) src=$(cd "$2" && pwd)
y="$build/yima" yimad="$build/yimad"
command -v protoc >/dev/null || { echo "test_protocol_py: SKIPPED: no protoc (protobuf-compiler)"; exit 77; }
# Debian's python3-protobuf is for the system's python3 (a python3 earlier
# on PATH, e.g. pyenv's, may lack it)
py=
for p in python3 /usr/bin/python3; do
	if "$p" -c 'import google.protobuf' 2>/dev/null; then py=$p; break; fi
done
[ -n "$py" ] || { echo "test_protocol_py: SKIPPED: no python3-protobuf"; exit 77; }
t=$(mktemp -d)
pid=
trap '[ -z "$pid" ] || kill "$pid" 2>/dev/null; rm -rf "$t"' EXIT
fail() { echo "FAIL: $*" >&2; [ -f "$t/yimad.log" ] && tail -5 "$t/yimad.log" >&2; exit 1; }

# the example, exactly as the document has it
awk '/<!-- example: settle.py -->/ { on = 1; next }
     on && /^```python$/ { body = 1; next }
     body && /^```$/ { exit }
     body { print }' "$src/docs/protocol.md" > "$t/settle.py"
[ "$(wc -l < "$t/settle.py")" -gt 10 ] || fail "no example in docs/protocol.md"
protoc --python_out="$t" -I "$src/proto" "$src/proto/yima.proto" || fail "protoc --python_out"
(cd "$t" && "$py" - <<'PY') || fail "service block"
import yima_pb2
svc = yima_pb2.DESCRIPTOR.services_by_name["Yimad"]
got = {m.name: (m.input_type.name, m.output_type.name) for m in svc.methods}
want = {"UploadEvents": ("EventBatch", "BatchReceipt"), "Settle": ("Claim", "ClaimVerdict"),
        "GetCode": ("CodeRequest", "CodeHistory"), "GetPublicCode": ("CodeRequest", "PublicCodeView")}
assert got == want, got
PY

# a ledger where P0001 holds two packs of D001
printf 'product_id,drug_code,name,spec,pack_units\n1234567,D001,阿莫西林胶囊,0.25g x 10,10\n' > "$t/catalog.csv"
{
	echo "time,facility,type,code,drug,qty,settlement,patient,counterparty"
	echo "2026-03-01T09:00:00+08:00,P0001,receive,12345670000000000001,,,,,S0001"
	echo "2026-03-01T09:00:00+08:00,P0001,receive,12345670000000000002,,,,,S0001"
} > "$t/events.csv"
"$y" init --db "$t/db" 2>/dev/null
"$y" catalog load --db "$t/db" "$t/catalog.csv" 2>/dev/null || fail "catalog"
"$y" ingest --db "$t/db" --out /dev/null "$t/events.csv" 2>/dev/null || fail "ingest"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$yimad" --db "$t/db" --listen "127.0.0.1:$port" --insecure-http 2>"$t/yimad.log" &
pid=$!
for _ in $(seq 100); do grep -q serving "$t/yimad.log" && break; sleep 0.1; done
grep -q serving "$t/yimad.log" || fail "yimad did not start"
url="http://127.0.0.1:$port"

cd "$t"
"$py" settle.py "$url" P0001 ST0001 D001 12345670000000000001 > out1 || fail "accepted claim: $(cat out1)"
grep -qx "ST0001 ACCEPT" <(head -1 out1) || fail "verdict: $(cat out1)"
grep -q "^  12345670000000000001 ACCEPT  seq=3$" out1 || fail "code line: $(cat out1)"
set +e; "$py" settle.py "$url" P0001 ST0002 D999 12345670000000000002 > out2; rc=$?; set -e
[ "$rc" = 1 ] || fail "substituted claim exit $rc: $(cat out2)"
grep -q "^ST0002 REJECT" out2 && grep -q "REJECT SUBSTITUTED" out2 || fail "substitution: $(cat out2)"
set +e; "$py" settle.py "$url" P0001 ST0003 D001 "" > out3 2> err3; rc=$?; set -e
[ "$rc" = 1 ] || fail "empty code exit $rc: $(cat out3 err3)"
grep -q "MALFORMED" out3 || fail "empty code: $(cat out3 err3)"
# a pack another facility holds: dispensed with a warning
"$py" settle.py "$url" P0002 ST0004 D001 12345670000000000002 > out4 || fail "warned claim: $(cat out4)"
grep -q "^ST0004 WARN" out4 && grep -q "WARN NOT_RECEIVED" out4 || fail "not received: $(cat out4)"
"$y" query --db "$t/db" --json 12345670000000000001 | grep -q '"dispensed_at":"P0001"' ||
	fail "the accepted claim is not in the ledger"
echo "test_protocol_py: ok ($(head -1 out1); $(head -1 out2))"
