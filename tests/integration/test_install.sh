#!/usr/bin/env bash
# `cmake --install` under a prefix puts everything where the usual layout
# has it (packaging/install.cmake): the two programs, the man pages, the
# systemd unit naming the installed yimad and config file, the example
# config, the proto file and the docs; the installed programs run.
#   test_install.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$1
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

p="$t/prefix"
cmake --install "$build" --prefix "$p" > "$t/install.log" 2>&1 || { cat "$t/install.log" >&2; fail "cmake --install"; }
for f in bin/yima sbin/yimad share/man/man1/yima.1.gz share/man/man8/yimad.8.gz \
	 lib/systemd/system/yimad.service etc/yima/yimad.conf share/yima/yima.proto \
	 share/doc/yima/README.md share/doc/yima/deployment.md share/doc/yima/protocol.md; do
	[ -f "$p/$f" ] || fail "not installed: $f"
done
[ -x "$p/bin/yima" ] && [ -x "$p/sbin/yimad" ] || fail "programs not executable"
"$p/bin/yima" --version | grep -Eqx 'yima [0-9]+\.[0-9]+\.[0-9]+' || fail "installed yima --version"
"$p/sbin/yimad" --version | grep -Eqx 'yimad [0-9]+\.[0-9]+\.[0-9]+' || fail "installed yimad --version"
[ "$("$p/bin/yima" --version | cut -d' ' -f2)" = "$("$p/sbin/yimad" --version | cut -d' ' -f2)" ] ||
	fail "yima and yimad show different versions"
grep -qx "ExecStart=$p/sbin/yimad --config $p/etc/yima/yimad.conf" "$p/lib/systemd/system/yimad.service" ||
	fail "unit: $(grep ExecStart "$p/lib/systemd/system/yimad.service")"
! grep -q '@[A-Z_]*@' "$p/lib/systemd/system/yimad.service" || fail "unit has unconfigured @VARS@"
gzip -t "$p/share/man/man1/yima.1.gz" "$p/share/man/man8/yimad.8.gz" || fail "man pages not gzip"
zcat "$p/share/man/man8/yimad.8.gz" | grep -q '^\.Dt YIMAD 8' || fail "yimad.8.gz is not the page"
grep -q '^db = /var/lib/yima/ledger$' "$p/etc/yima/yimad.conf" || fail "example config"
grep -q '^service Yimad {' "$p/share/yima/yima.proto" || fail "installed proto has no service"
# the example config parses: yimad gets past it to the TLS files it names
set +e; "$p/sbin/yimad" --config "$p/etc/yima/yimad.conf" --db "$t/none" > "$t/out" 2>&1; rc=$?; set -e
[ "$rc" = 2 ] && ! grep -qi "unknown option\|bad value" "$t/out" || fail "example config: $(cat "$t/out")"
echo "test_install: ok ($(wc -l < "$t/install.log") lines installed under a prefix)"
