#!/usr/bin/env bash
# yimad's /metrics through `promtool check metrics` (issue 12 item 7): the
# exposition of a server that has answered requests, refused some and
# committed claims is valid Prometheus text, every family with HELP and
# TYPE, no lint warnings.  promtool comes with Debian's `prometheus`
# package (scripts/setup installs it); without it this test is SKIPPED
# (exit 77), not passed.
#   test_metrics.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$1
yimad="$build/yimad"
command -v promtool >/dev/null || { echo "test_metrics: SKIPPED: no promtool (Debian package prometheus)"; exit 77; }
command -v curl >/dev/null || { echo "test_metrics: SKIPPED: no curl"; exit 77; }
[ -x "$yimad" ] || { echo "test_metrics: SKIPPED: no yimad built"; exit 77; }
t=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$t"' EXIT
fail() { echo "FAIL: $*" >&2; cat "$t/yimad.log" >&2 2>/dev/null || true; exit 1; }

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
"$build/yima" init --db "$t/db" >/dev/null
"$yimad" --db "$t/db" --listen "127.0.0.1:$port" --insecure-http 2>"$t/yimad.log" &
pid=$!
for _ in $(seq 100); do curl -fs "$base/healthz" >/dev/null 2>&1 && break; sleep 0.05; done
curl -fs "$base/healthz" >/dev/null || fail "yimad did not start"

# something in every family: answers of several kinds, refusals, a commit
curl -s -o /dev/null "$base/v1/codes/81000010000000010001" || true
curl -s -o /dev/null "$base/nothing" || true
curl -s -o /dev/null -H 'Transfer-Encoding: chunked' --data-binary x "$base/v1/settle" || true
printf '\x0a\x05H0001\x12\x02S1\x1a\x1e2026-03-01T10:00:00+08:00\x22\x02PT' |
	curl -s -o /dev/null -H 'Content-Type: application/protobuf' --data-binary @- "$base/v1/settle" || true

curl -fs "$base/metrics" > "$t/metrics.txt" || fail "GET /metrics"
grep -q '^yimad_build_info{version="[0-9.]*"} 1$' "$t/metrics.txt" || fail "no yimad_build_info"
grep -q '^yimad_http_refused_total{reason="length_required"} 1$' "$t/metrics.txt" ||
	fail "the chunked request is not counted"
if ! promtool check metrics < "$t/metrics.txt" > "$t/promtool.out" 2>&1; then
	cat "$t/promtool.out" >&2
	fail "promtool check metrics"
fi
# promtool prints lint findings and still exits 0 for some: none wanted
[ ! -s "$t/promtool.out" ] || { cat "$t/promtool.out" >&2; fail "promtool lint findings"; }
echo "test_metrics: promtool check metrics: clean ($(grep -c '^# TYPE' "$t/metrics.txt") families)"
