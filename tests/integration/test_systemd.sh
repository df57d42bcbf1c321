#!/usr/bin/env bash
# yimad under systemd (issue 12), as far as this machine allows:
#   - the unit (packaging/yimad.service.in, with the paths of the .deb)
#     passes `systemd-analyze verify` and is hardened to an exposure of
#     3.0 or less by `systemd-analyze security --offline=yes`, or, on a
#     systemd without --offline, has each hardening directive (the output
#     says which check ran);
#   - Type=notify works: yimad started with $NOTIFY_SOCKET, as systemd does,
#     sends READY=1 (with STATUS=) once it answers on its address, and
#     STOPPING=1 when SIGTERM starts the drain, then exits 0.
# Starting the unit itself needs systemd as PID 1: test_deb.sh does that
# where it can.
#   test_systemd.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$(cd "$1" && pwd) src=$(cd "$2" && pwd)
command -v systemd-analyze >/dev/null || { echo "test_systemd: SKIPPED: no systemd-analyze"; exit 77; }
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
fail() { echo "FAIL: $*" >&2; [ -f "$t/yimad.log" ] && tail -5 "$t/yimad.log" >&2; exit 1; }

# -- the unit -------------------------------------------------------------------
mkdir -p "$t/unit" "$t/man/man1" "$t/man/man8"
sed 's|@YIMA_SBINDIR@|/usr/sbin|; s|@YIMA_CONFDIR@|/etc/yima|' "$src/packaging/yimad.service.in" \
	> "$t/unit/yimad.service"
grep -q '^ExecStart=/usr/sbin/yimad --config /etc/yima/yimad.conf$' "$t/unit/yimad.service" ||
	fail "unit not rendered: $(grep ExecStart "$t/unit/yimad.service")"
for d in Type=notify User=yima ReadWritePaths=/var/lib/yima StateDirectory=yima; do
	grep -qx "$d" "$t/unit/yimad.service" || fail "unit lacks $d"
done
# verify, with this build's yimad in ExecStart and the man pages it names
sed "s|^ExecStart=/usr/sbin/yimad|ExecStart=$build/yimad|" "$t/unit/yimad.service" > "$t/yimad.service"
cp "$src/man/yima.1" "$t/man/man1/"; cp "$src/man/yimad.8" "$t/man/man8/"
MANPATH="$t/man" systemd-analyze verify "$t/yimad.service" > "$t/verify.out" 2>&1 ||
	fail "systemd-analyze verify: $(cat "$t/verify.out")"
[ ! -s "$t/verify.out" ] || fail "systemd-analyze verify says: $(cat "$t/verify.out")"

if systemd-analyze security --help 2>&1 | grep -q -- '--offline'; then
	systemd-analyze security --offline=yes "$t/unit/yimad.service" > "$t/security.out" 2>&1 || true
	level=$(sed -n 's/.*Overall exposure level for yimad.service: \([0-9.]*\).*/\1/p' "$t/security.out")
	[ -n "$level" ] || fail "no exposure level: $(tail -3 "$t/security.out")"
	awk -v l="$level" 'BEGIN { exit !(l <= 3.0) }' ||
		fail "exposure $level > 3.0: $(grep '✗' "$t/security.out")"
	echo "test_systemd: systemd-analyze security --offline=yes: exposure $level (<= 3.0)"
else
	for d in NoNewPrivileges=yes CapabilityBoundingSet= ProtectSystem=strict ProtectHome=yes \
		 PrivateTmp=yes PrivateDevices=yes ProtectKernelTunables=yes ProtectKernelModules=yes \
		 ProtectKernelLogs=yes ProtectControlGroups=yes LockPersonality=yes \
		 MemoryDenyWriteExecute=yes RestrictNamespaces=yes RestrictRealtime=yes \
		 RestrictSUIDSGID=yes SystemCallArchitectures=native SystemCallFilter=@system-service \
		 'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX'; do
		grep -qx "$d" "$t/unit/yimad.service" || fail "unit lacks $d"
	done
	echo "test_systemd: this systemd-analyze has no --offline: checked each hardening directive instead"
fi

# -- Type=notify ------------------------------------------------------------------
"$build/yima" init --db "$t/db" 2>/dev/null
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
python3 - "$build/yimad" "$t" "$port" <<'PY' || fail "sd_notify protocol"
import os, signal, socket, subprocess, sys, time, urllib.request
yimad, t, port = sys.argv[1], sys.argv[2], sys.argv[3]
sock_path = os.path.join(t, "notify")
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sock_path)
s.settimeout(20)
env = dict(os.environ, NOTIFY_SOCKET=sock_path)
log = open(os.path.join(t, "yimad.log"), "w")
p = subprocess.Popen([yimad, "--db", os.path.join(t, "db"), "--listen", "127.0.0.1:" + port,
                      "--insecure-http"], env=env, stderr=log)
def message():
    m = s.recv(4096).decode()
    return dict(l.split("=", 1) for l in m.split("\n") if "=" in l)
try:
    ready = message()
    assert ready.get("READY") == "1", ready
    assert "serving" in ready.get("STATUS", "") and os.path.join(t, "db") in ready["STATUS"], ready
    # ready means listening: the first request after READY=1 is answered
    body = urllib.request.urlopen("http://127.0.0.1:%s/healthz" % port, timeout=5).read()
    assert body.strip() == b"ok", body
    p.send_signal(signal.SIGTERM)
    stopping = message()
    assert stopping.get("STOPPING") == "1", stopping
    assert p.wait(timeout=30) == 0, "yimad exit"
finally:
    if p.poll() is None:
        p.kill()
print("test_systemd: READY=1 (%s), then STOPPING=1 on SIGTERM, exit 0" % ready["STATUS"])
PY
echo "test_systemd: ok"
