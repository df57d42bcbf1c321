#!/usr/bin/env bash
# `yima report` end to end: a ledger from a small events file whose flagged
# events are known from spec section 4, the report written, its evidence
# rows, hashes and head checked in the HTML, then the page opened in
# headless Chromium: the rendered DOM must hold the table rows and the SVG
# chart, with the ledger's hostile text inert, a screenshot must come out,
# and a Chinese drug name in the page's own fonts must render as glyphs,
# not boxes (tests/integration/glyphs.py, with a control line of boxes).
# Chromium and a CJK font are test dependencies (scripts/setup installs
# chromium and fonts-wqy-microhei): without them this test fails.
#   test_report.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$1 src=$2
y="$build/yima"
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
expect_rc() {	# rc command...
	local want=$1; shift
	set +e; "$@" >"$t/out" 2>"$t/err"; local rc=$?; set -e
	[ "$rc" = "$want" ] || { cat "$t/err" >&2; fail "exit $rc, expected $want: $*"; }
}

cat > "$t/catalog.csv" <<'EOF'
product_id,drug_code,name,spec,pack_units
1234567,D001,Amoxicillin <b>caps</b> & co,0.25g x 10,10
7654321,D002,阿莫西林胶囊,0.5g x 20,20
EOF
# Row N is ledger seq N.  Flagged at H0001 from 2026-03-01 to 2026-03-03
# (+08:00): 4 REUSED (a used-up pack sold again where it was sold),
# 5 NOT_RECEIVED (warn), 7 SUBSTITUTED (claims D999 for a D001 pack),
# 8 MALFORMED (its raw code is markup), 9 NOT_RECEIVED (warn),
# 12 RETURNED_TO_MARKET (received again where it was dispensed).
# Flagged but not in the report: 10 (another facility), 11 (after the
# period).  Accepted: 1 (before the period), 2, 3, 6.
cat > "$t/events.csv" <<'EOF'
time,facility,type,code,drug,qty,settlement,patient,counterparty
2026-02-28T10:00:00+08:00,H0001,receive,12345670000000000001,,,,,S0001
2026-03-01T09:00:00+08:00,H0001,receive,12345670000000000002,,,,,S0001
2026-03-01T09:05:00+08:00,H0001,dispense,12345670000000000002,D001,,ST001,PT1,
2026-03-01T09:10:00+08:00,H0001,dispense,12345670000000000002,D001,,ST002,PT2,
2026-03-02T10:00:00+08:00,H0001,dispense,12345670000000000003,D001,,ST003,PT3,
2026-03-02T11:00:00+08:00,H0001,receive,12345670000000000004,,,,,S0001
2026-03-02T11:05:00+08:00,H0001,dispense,12345670000000000004,D999,,S&<b>7,PT4,
2026-03-02T12:00:00+08:00,H0001,receive,<script>alert(1)</script>,,,,,S0001
2026-03-02T13:00:00+08:00,H0001,dispense,76543210000000000001,D002,,ST009,PT5,
2026-03-02T14:00:00+08:00,P0001,dispense,12345670000000000002,D001,,SP001,PT6,
2026-03-04T09:00:00+08:00,H0001,dispense,12345670000000000002,D001,,ST011,PT7,
2026-03-03T23:59:59+08:00,H0001,receive,12345670000000000002,,,,,S0002
EOF
flagged="4 5 7 8 9 12"
expect_rc 0 "$y" catalog load --db "$t/db" --create "$t/catalog.csv"
expect_rc 1 "$y" ingest --db "$t/db" --out "$t/ingest.jsonl" "$t/events.csv"
expect_rc 0 "$y" audit --db "$t/db"
head=$(sed -n 's/^ok records=12 head=\([0-9a-f]\{64\}\)$/\1/p' "$t/out")
[ -n "$head" ] || fail "audit: $(cat "$t/out")"

# -- the page ------------------------------------------------------------------
expect_rc 0 "$y" report --db "$t/db" --facility H0001 --from 2026-03-01 --to 2026-03-03 --out "$t/r.html"
r="$t/r.html"
[ "$(grep -c '<tr id="seq-' "$r")" = 6 ] || fail "expected 6 evidence rows, got $(grep -c '<tr id="seq-' "$r")"
for s in $flagged; do
	grep -q "<tr id=\"seq-$s\"><td class=\"num\">$s</td>" "$r" || fail "seq $s missing"
done
for s in 1 2 3 6 10 11; do
	! grep -q "id=\"seq-$s\"" "$r" || fail "seq $s must not be in the evidence table"
done
# hashes: the first and last 8 digits on screen, all 64 in the title (hover)
# and in the text (copy)
grep -q "<code class=\"hash\" id=\"ledger-head\" title=\"$head\"><span>${head:0:56}</span>${head:56}</code>" "$r" ||
	fail "ledger head is not the audit head, whole in title and text"
# the last record is seq 12, so its chain hash is the head
grep "<tr id=\"seq-12\">" "$r" | grep -q "title=\"$head\"" || fail "seq 12's chain hash is not the head"
[ "$(grep -o '<td><code class="hash" title="[0-9a-f]\{64\}">' "$r" | sort -u | wc -l)" = 6 ] ||
	fail "six distinct 64-hex chain hashes expected"
grep -q '\.hash span{[^}]*max-width:9ch;overflow:hidden;text-overflow:ellipsis' "$r" ||
	fail "hashes are not shortened on screen"
# Chinese first: the language and a CJK font stack; a colour-blind-safe palette
grep -q '<html lang="zh-CN">' "$r" || fail "the page does not declare zh-CN"
grep -q "body{font-family:[^}]*'WenQuanYi Micro Hei'[^}]*'Microsoft YaHei'" "$r" || fail "no CJK font stack"
! grep -q '#d62728\|#ff7f0e\|#2ca02c' "$r" || fail "the old category-10 colours are back"
grep "<tr id=\"seq-4\">" "$r" | grep -q 'REUSED' || fail "seq 4: REUSED"
grep "<tr id=\"seq-7\">" "$r" | grep -q 'SUBSTITUTED' || fail "seq 7: SUBSTITUTED"
grep "<tr id=\"seq-12\">" "$r" | grep -q 'RETURNED_TO_MARKET' || fail "seq 12: RETURNED_TO_MARKET"
# everything from the ledger is escaped
! grep -q '<script' "$r" || fail "raw <script> from the ledger"
grep -q '&lt;script&gt;alert(1)&lt;/script&gt;' "$r" || fail "malformed code not escaped"
grep -q 'S&amp;&lt;b&gt;7' "$r" || fail "settlement not escaped"
grep -q 'Amoxicillin &lt;b&gt;caps&lt;/b&gt; &amp; co' "$r" || fail "catalog name not escaped"
grep -q '阿莫西林胶囊' "$r" || fail "UTF-8 name lost"
# self-contained: no external reference of any kind
! grep -Eiq '(src|href)=|url\(|@import|<link|<script' "$r" || fail "the page references something outside"
# totals: 9 events in the period, 3 accepted, 2 warned, 4 rejected
grep -q '<tr><td>accept</td><td class="num">3</td></tr>' "$r" || fail "accept count"
grep -q '<tr><td>warn</td><td class="num">2</td></tr>' "$r" || fail "warn count"
grep -q '<tr><td>reject</td><td class="num">4</td></tr>' "$r" || fail "reject count"
grep -q '<tr><td>NOT_RECEIVED</td><td class="num">2</td></tr>' "$r" || fail "NOT_RECEIVED count"
# top products: 1234567 first (4 flagged events), then 7654321
grep -A3 'id="top-products"' "$r" | grep -q '1234567' || fail "top product"

# the same period in RFC 3339, and a period that stops one second early
expect_rc 0 "$y" report --db "$t/db" --facility H0001 --from 2026-03-01T00:00:00+08:00 \
	--to 2026-03-03T15:59:59Z --out "$t/r2.html"
[ "$(grep -c '<tr id="seq-' "$t/r2.html")" = 6 ] || fail "RFC 3339 period"
expect_rc 0 "$y" report --db "$t/db" --facility H0001 --from 2026-02-28T16:00:00Z \
	--to 2026-03-03T23:59:58+08:00 --out "$t/r3.html"
! grep -q 'id="seq-12"' "$t/r3.html" || fail "--to is inclusive of its instant only"
# a facility with nothing flagged still gets a whole page
expect_rc 0 "$y" report --db "$t/db" --facility Q0001 --from 2026-03-01 --to 2026-03-03 --out "$t/r4.html"
grep -q '</html>' "$t/r4.html" || fail "empty report not whole"

# -- usage -----------------------------------------------------------------------
expect_rc 0 "$y" report --help
expect_rc 2 "$y" report --db "$t/db" --facility H0001 --from 2026-03-01 --out "$t/x.html"
expect_rc 2 "$y" report --db "$t/db" --facility h-1 --from 2026-03-01 --to 2026-03-03 --out "$t/x.html"
expect_rc 2 "$y" report --db "$t/db" --facility H0001 --from 2026-03-04 --to 2026-03-03 --out "$t/x.html"
expect_rc 2 "$y" report --db "$t/db" --facility H0001 --from 2026-02-30 --to 2026-03-03 --out "$t/x.html"
expect_rc 2 "$y" report --db "$t/nope" --facility H0001 --from 2026-03-01 --to 2026-03-03 --out "$t/x.html"
expect_rc 2 "$y" report --db "$t/db" --facility H0001 --from 2026-03-01 --to 2026-03-03 --out "$t/no/dir/x.html"
[ "$(wc -l < "$t/err")" = 1 ] || fail "usage errors are one line"
[ ! -e "$t/x.html" ] || fail "a failed report left a file"

# -- rendered in Chromium ---------------------------------------------------------
chromium=$(command -v chromium || command -v chromium-browser || true)
[ -n "$chromium" ] || fail "chromium not installed (scripts/setup installs it)"
chrome() {
	HOME="$t" timeout 120 "$chromium" --headless --no-sandbox --disable-gpu --disable-quic \
		--no-first-run --disable-background-networking --disable-component-update --disable-sync \
		--user-data-dir="$t/chr" "$@" 2>>"$t/chromium.log"
}
chrome --dump-dom "file://$r" > "$t/dom.html" || { tail -5 "$t/chromium.log" >&2; fail "chromium --dump-dom"; }
grep -q '<table id="evidence">' "$t/dom.html" || fail "rendered DOM has no evidence table"
[ "$(grep -c '<tr id="seq-' "$t/dom.html")" = 6 ] || fail "rendered DOM: not 6 evidence rows"
for s in $flagged; do grep -q "<tr id=\"seq-$s\">" "$t/dom.html" || fail "rendered DOM: seq $s"; done
grep -q '<svg id="chart"' "$t/dom.html" || fail "rendered DOM has no <svg>"
# 3 days: REUSED; NOT_RECEIVED x2, SUBSTITUTED, MALFORMED; RETURNED_TO_MARKET
[ "$(grep -c '<rect class="bar"' "$t/dom.html")" = 5 ] || fail "chart: expected 5 bar segments"
grep -q '<rect class="bar" data-finding="NOT_RECEIVED"[^>]*><title>2026-03-02 NOT_RECEIVED: 2</title>' \
	"$t/dom.html" || fail "chart: 2 NOT_RECEIVED on 2026-03-02"
! grep -q '<script' "$t/dom.html" || fail "rendered DOM holds a script element"
chrome --window-size=1280,1600 --screenshot="$t/r.png" "file://$r" >/dev/null ||
	{ tail -5 "$t/chromium.log" >&2; fail "chromium --screenshot"; }
[ -s "$t/r.png" ] && [ "$(head -c 8 "$t/r.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] ||
	fail "screenshot is not a PNG"
[ "$(stat -c %s "$t/r.png")" -gt 20000 ] || fail "screenshot too small to hold the page"

# -- a Chinese drug name renders as glyphs ---------------------------------------
# The page's own head (its lang and font stack) with two lines on top at
# 96 px: the catalog's drug name, and six Tangut characters no installed
# font has (the control: what boxes look like here).
fc-list | grep -qi 'wqy\|noto.*cjk\|source han' || fail "no CJK font installed (scripts/setup installs fonts-wqy-microhei)"
sed 's|<body>|<body><style>body{margin:0!important}p.probe{font-size:96px;line-height:130px;height:130px;margin:0;padding:0 8px;white-space:nowrap}</style><p class="probe">阿莫西林胶囊</p><p class="probe">\&#x17000;\&#x17001;\&#x17002;\&#x17003;\&#x17004;\&#x17005;</p>|' \
	"$r" > "$t/probe.html"
grep -q '<p class="probe">阿莫西林胶囊</p>' "$t/probe.html" || fail "probe page not made"
chrome --window-size=900,300 --screenshot="$t/probe.png" "file://$t/probe.html" >/dev/null ||
	{ tail -5 "$t/chromium.log" >&2; fail "chromium --screenshot of the probe"; }
if python3 "$src/tests/integration/glyphs.py" "$t/probe.png" 130 260 6 > "$t/control.txt"; then
	fail "the control line of missing characters was not seen as boxes: $(cat "$t/control.txt")"
fi
python3 "$src/tests/integration/glyphs.py" "$t/probe.png" 0 130 6 > "$t/glyphs.txt" ||
	fail "阿莫西林胶囊 renders as boxes: $(cat "$t/glyphs.txt") (control: $(cat "$t/control.txt"))"
echo "test_report: Chinese name $(cat "$t/glyphs.txt"); boxes $(cat "$t/control.txt")"
echo "test_report: ok"
