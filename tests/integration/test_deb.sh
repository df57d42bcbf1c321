#!/usr/bin/env bash
# The .deb (issue 12): `cpack -G DEB` in the build directory makes
# yima_<version>_amd64.deb with its dependencies, conffile and maintainer
# scripts; it is installed on this machine with dpkg -i, and then:
#   - /usr/bin/yima and /usr/sbin/yimad run and say the version;
#   - the yima system user, /var/lib/yima (0700) and an empty ledger exist;
#   - the man pages and the unit are installed, and the unit passes
#     `systemd-analyze verify`;
#   - the installed yima ingests a small file, queries and audits it;
#   - yimad is started on the installed ledger with a test PKI in
#     /etc/yima: with systemctl where systemd is PID 1, else by hand from
#     the installed paths as user yima (the output says which); a claim is
#     settled against it with the installed yima, and it stops cleanly;
#   - dpkg -r keeps the configuration and the ledger, dpkg -P removes them:
#     no file of the package is left (the yima system user stays, as
#     Debian keeps system users).
# Needs root (dpkg -i): otherwise, and when a yima package is already
# installed (not ours to replace), it is SKIPPED (77).
#   test_deb.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$(cd "$1" && pwd) src=$(cd "$2" && pwd)
skip() { echo "test_deb: SKIPPED: $*"; exit 77; }
[ "$(id -u)" = 0 ] || skip "dpkg -i needs root"
for c in cpack dpkg dpkg-deb dpkg-shlibdeps; do command -v "$c" >/dev/null || skip "no $c"; done
if dpkg-query -W -f='${Status}' yima 2>/dev/null | grep -q 'ok installed'; then
	skip "a yima package is installed on this machine already; not replacing it"
fi
t=$(mktemp -d)
chmod 755 "$t"
installed= yimad_pid= certs=
cleanup() {
	[ -z "$yimad_pid" ] || kill -9 "$yimad_pid" 2>/dev/null || true
	if [ -n "$installed" ] && [ -d /run/systemd/system ]; then systemctl stop yimad 2>/dev/null || true; fi
	for f in $certs; do rm -f "/etc/yima/$f"; done
	[ -z "$installed" ] || dpkg_locked -P yima >/dev/null 2>&1 || true
	rm -rf "$t"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
# dpkg takes its lock or fails at once: wait for another dpkg to finish
dpkg_locked() {
	local i
	for i in $(seq 120); do
		if dpkg "$@" 2>"$t/dpkg.err"; then return 0; fi
		grep -qi 'lock' "$t/dpkg.err" || { cat "$t/dpkg.err" >&2; return 1; }
		sleep 1
	done
	cat "$t/dpkg.err" >&2
	return 1
}

# -- the package ------------------------------------------------------------------
version=$("$build/yima" --version | sed -n 's/^yima \([0-9.]*\)$/\1/p')
[ -n "$version" ] || fail "yima --version: $("$build/yima" --version)"
(cd "$build" && cpack -G DEB -B "$t/pkg" > "$t/cpack.log" 2>&1) || { cat "$t/cpack.log" >&2; fail "cpack"; }
deb="$t/pkg/yima_${version}_amd64.deb"
[ -f "$deb" ] || fail "no $deb: $(ls "$t/pkg")"
depends=$(dpkg-deb -f "$deb" Depends)
for d in adduser libc6 libssl3 liblmdb0 libprotobuf-c1 libevent-core-2.1-7 libevent-openssl-2.1-7 libsystemd0; do
	echo "$depends" | grep -q "\b$d\b" || fail "Depends lacks $d: $depends"
done
dpkg-deb -e "$deb" "$t/control"
grep -qx /etc/yima/yimad.conf "$t/control/conffiles" || fail "yimad.conf is not a conffile"
for s in postinst prerm postrm; do [ -x "$t/control/$s" ] || fail "no $s"; done
dpkg-deb -c "$deb" | awk '{print $6}' | sed 's|^\./|/|; s|/$||' | grep -v '^$' > "$t/files"
for f in /usr/bin/yima /usr/sbin/yimad /usr/share/man/man1/yima.1.gz /usr/share/man/man8/yimad.8.gz \
	 /usr/lib/systemd/system/yimad.service /etc/yima/yimad.conf /usr/share/yima/yima.proto; do
	grep -qx "$f" "$t/files" || fail "the package lacks $f"
done

# -- install ----------------------------------------------------------------------
dpkg_locked -i "$deb" > "$t/install.log" || fail "dpkg -i: $(cat "$t/install.log")"
installed=1
[ "$(/usr/bin/yima --version)" = "yima $version" ] || fail "installed yima --version"
[ "$(/usr/sbin/yimad --version)" = "yimad $version" ] || fail "installed yimad --version"
getent passwd yima >/dev/null || fail "no yima user"
[ "$(stat -c '%U %a' /var/lib/yima)" = "yima 700" ] || fail "/var/lib/yima: $(stat -c '%U %a' /var/lib/yima)"
[ "$(stat -c %U /var/lib/yima/ledger/data.mdb)" = yima ] || fail "the ledger is not yima's"
[ "$(stat -c %a /var/lib/yima/ledger/patient.key)" = 600 ] || fail "patient.key mode"
if command -v man >/dev/null; then
	man -w yima >/dev/null && man -w 8 yimad >/dev/null || fail "man pages not found by man"
fi
systemd-analyze verify /usr/lib/systemd/system/yimad.service > "$t/verify.out" 2>&1 ||
	fail "systemd-analyze verify: $(cat "$t/verify.out")"
[ ! -s "$t/verify.out" ] || fail "systemd-analyze verify says: $(cat "$t/verify.out")"

# -- the installed yima ---------------------------------------------------------------
printf 'product_id,drug_code,name,spec,pack_units\n1234567,D001,阿莫西林胶囊,0.25g x 10,10\n' > "$t/catalog.csv"
{
	echo "time,facility,type,code,drug,qty,settlement,patient,counterparty"
	echo "2026-03-01T09:00:00+08:00,P0001,receive,12345670000000000001,,,,,S0001"
	echo "2026-03-01T09:00:00+08:00,P0001,receive,12345670000000000002,,,,,S0001"
	echo "2026-03-01T10:00:00+08:00,P0001,dispense,12345670000000000002,D001,,ST0,PT0,"
} > "$t/events.csv"
/usr/bin/yima init --db "$t/l" 2>/dev/null
/usr/bin/yima catalog load --db "$t/l" "$t/catalog.csv" 2>/dev/null || fail "installed catalog load"
/usr/bin/yima ingest --db "$t/l" --out "$t/in.jsonl" "$t/events.csv" 2>/dev/null || fail "installed ingest"
[ "$(grep -c '"verdict":"accept"' "$t/in.jsonl")" = 3 ] || fail "ingest: $(cat "$t/in.jsonl")"
/usr/bin/yima audit --db "$t/l" | grep -q '^ok records=3 ' || fail "installed audit"

# -- yimad on the installed ledger, a claim settled against it ---------------------------
bash "$src/scripts/certs" "$t/pki" P0001 >/dev/null 2>&1
install -o root -g yima -m 0640 "$t/pki/server.crt" /etc/yima/server.crt
install -o root -g yima -m 0640 "$t/pki/server.key" /etc/yima/server.key
install -o root -g yima -m 0640 "$t/pki/ca.crt" /etc/yima/facility-ca.crt
certs="server.crt server.key facility-ca.crt"
runuser -u yima -- /usr/bin/yima catalog load --db /var/lib/yima/ledger "$t/catalog.csv" 2>/dev/null
runuser -u yima -- /usr/bin/yima ingest --db /var/lib/yima/ledger --out /dev/null "$t/events.csv" 2>/dev/null
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
if [ -d /run/systemd/system ]; then
	how="systemctl start yimad (systemd is PID 1)"
	mkdir -p /run/systemd/system/yimad.service.d
	printf '[Service]\nExecStart=\nExecStart=/usr/sbin/yimad --config /etc/yima/yimad.conf --listen 127.0.0.1:%s\n' \
		"$port" > /run/systemd/system/yimad.service.d/test.conf
	systemctl daemon-reload
	systemctl start yimad || fail "systemctl start yimad: $(journalctl -u yimad -n 20 --no-pager)"
	systemctl is-active --quiet yimad || fail "yimad not active"
else
	how="by hand from the installed paths as user yima (systemd is not PID 1 here: $(ps -p 1 -o comm=))"
	# setpriv execs yimad as yima (runuser would stay as its parent)
	setpriv --reuid=yima --regid=yima --init-groups /usr/sbin/yimad --config /etc/yima/yimad.conf \
		--listen "127.0.0.1:$port" 2>"$t/yimad.log" &
	yimad_pid=$!
	for _ in $(seq 100); do grep -q serving "$t/yimad.log" 2>/dev/null && break; sleep 0.1; done
	grep -q serving "$t/yimad.log" || fail "yimad did not start: $(cat "$t/yimad.log")"
fi
echo "test_deb: yimad started $how"
printf 'facility,settlement,time,patient,drug,code,units\nP0001,ST1,2026-03-01T11:00:00+08:00,PT1,D001,12345670000000000001,\n' \
	> "$t/claim.csv"
/usr/bin/yima settle --server "https://localhost:$port" --cert "$t/pki/P0001.crt" --key "$t/pki/P0001.key" \
	--ca "$t/pki/ca.crt" "$t/claim.csv" > "$t/settle.out" 2>&1 || fail "settle: $(cat "$t/settle.out")"
grep -q "^settlement ST1: accept" "$t/settle.out" || fail "settle: $(cat "$t/settle.out")"
if [ -d /run/systemd/system ]; then
	systemctl stop yimad
	rm -rf /run/systemd/system/yimad.service.d
	systemctl daemon-reload
else
	kill -TERM "$yimad_pid"
	rc=0; wait "$yimad_pid" || rc=$?
	yimad_pid=
	[ "$rc" = 0 ] || fail "yimad exit $rc after SIGTERM: $(tail -3 "$t/yimad.log")"
fi
runuser -u yima -- /usr/bin/yima audit --db /var/lib/yima/ledger | grep -q '^ok records=4 ' ||
	fail "the installed ledger after the claim does not audit to 4 records"
for f in $certs; do rm -f "/etc/yima/$f"; done
certs=

# -- remove, then purge: nothing left ------------------------------------------------------
dpkg_locked -r yima > /dev/null || fail "dpkg -r"
[ ! -e /usr/bin/yima ] && [ ! -e /usr/sbin/yimad ] || fail "binaries left after dpkg -r"
[ -f /etc/yima/yimad.conf ] || fail "dpkg -r removed the configuration"
[ -f /var/lib/yima/ledger/data.mdb ] || fail "dpkg -r removed the ledger"
dpkg_locked -P yima > /dev/null || fail "dpkg -P"
installed=
left=$(while read -r f; do [ -e "$f" ] && [ ! -d "$f" ] && echo "$f"; done < "$t/files"; true)
[ -z "$left" ] || fail "left after purge: $left"
for d in /etc/yima /var/lib/yima /usr/share/yima /usr/share/doc/yima; do
	[ ! -e "$d" ] || fail "$d left after purge: $(ls -la "$d")"
done
dpkg-query -W -f='${Status}' yima 2>/dev/null | grep -q 'ok installed' && fail "still installed"
echo "test_deb: ok ($(basename "$deb"), $(du -k "$deb" | cut -f1) KiB)"
