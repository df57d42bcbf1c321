#!/usr/bin/env bash
# The manual pages: man/yima.1 and man/yimad.8 pass `mandoc -T lint` at
# warning level, and say what the programs do: every subcommand `yima
# --help` lists, every flag of every `yima CMD --help`, every flag of
# `yimad --help`, and every metric family yimad exports (server/*.c).
#   test_man.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$1 src=$2
command -v mandoc >/dev/null || { echo "test_man: SKIPPED: no mandoc (Debian package mandoc)"; exit 77; }
fail() { echo "FAIL: $*" >&2; exit 1; }
y1="$src/man/yima.1" y8="$src/man/yimad.8"

for page in "$y1" "$y8"; do
	out=$(mandoc -T lint -W warning "$page" 2>&1) || fail "mandoc -T lint: $out"
	[ -z "$out" ] || fail "mandoc -T lint: $out"
	mandoc -T utf8 "$page" > /dev/null || fail "mandoc cannot render $page"
done

# every subcommand, and every flag of its usage
cmds=$("$build/yima" --help | sed -n 's/^  \([a-z-]*\)  .*/\1/p')
[ "$(echo "$cmds" | wc -l)" -ge 12 ] || fail "yima --help lists only: $cmds"
for c in $cmds; do
	grep -q "^\.It Nm Cm $c\b" "$y1" || fail "yima.1 has no entry for yima $c"
	for f in $("$build/yima" "$c" --help | grep -o -- '--[a-z][a-z0-9-]*' | sort -u); do
		grep -q "Fl -${f#--}\b" "$y1" || fail "yima.1 does not mention yima $c $f"
	done
done
grep -q "^\.Fl -version" "$y1" || fail "yima.1: --version"

# yimad: every flag of its usage, --version, and every metric family
for f in $("$build/yimad" --help | grep -o -- '--[a-z][a-z0-9-]*' | sort -u) --version --help; do
	grep -q "Fl -${f#--}\b" "$y8" || fail "yimad.8 does not mention $f"
done
metrics=$( (grep -ho '# TYPE yimad_[a-z_]*' "$src"/server/*.c | sed 's/# TYPE //';
	   grep -ho 'family(out, "yimad_[a-z_]*' "$src"/server/*.c | sed 's/.*"//') | sort -u)
[ -n "$metrics" ] || fail "no metric families found in server/*.c"
for m in $metrics; do
	grep -q "^\.It Li $m\b" "$y8" || fail "yimad.8 METRICS has no $m"
done
for s in SIGTERM SIGINT; do grep -q "$s" "$y8" || fail "yimad.8: signal $s"; done
echo "test_man: ok ($(echo $cmds | wc -w) commands, $(echo $metrics | wc -w) metric families)"
