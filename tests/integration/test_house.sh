#!/usr/bin/env bash
# The house rules of issue 14: the include matrix, function and folder
# sizes (scripts/check-house), and that the build itself refuses a wrong
# include: a ledger-level compile (the include path the ledger library
# gets) finds ledger headers but not the verifier's.
#   test_house.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$1 src=$2
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

python3 "$src/scripts/check-house" "$src" || fail "scripts/check-house found breaches"

# the include path of the ledger layer: util, core and ledger only
inc=(-I"$build/layers/util" -I"$build/layers/core" -I"$build/layers/ledger")
cc=${CC:-cc}
printf '#include "yima/ledger/ledger.h"\nint f(void);\nint f(void) { return 0; }\n' > "$t/ok.c"
"$cc" -fsyntax-only "${inc[@]}" "$t/ok.c" || fail "a ledger header does not compile on the ledger's path"
printf '#include "yima/verifier/verify.h"\n' > "$t/up.c"
if "$cc" -fsyntax-only "${inc[@]}" "$t/up.c" 2>/dev/null; then
	fail "a verifier header compiles on the ledger's include path"
fi
# and the clients never see the ledger
inc=(-I"$build/layers/util" -I"$build/layers/core" -I"$build/layers/client")
printf '#include "yima/ledger/ledger.h"\n' > "$t/cl.c"
if "$cc" -fsyntax-only "${inc[@]}" "$t/cl.c" 2>/dev/null; then
	fail "the ledger header compiles on the client's include path"
fi
# a breach is reported by check-house (it is not a test that cannot fail)
mkdir -p "$t/tree/ledger"
printf '#include "yima/verifier/verify.h"\n' > "$t/tree/ledger/x.c"
if python3 "$src/scripts/check-house" "$t/tree" >/dev/null; then
	fail "check-house missed a ledger source including a verifier header"
fi
echo "house: ok"
