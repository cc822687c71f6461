#!/bin/bash
# Records the golden outputs: every run in tests/golden/runs.txt, run by BUILD_DIR's gradflow,
# written (less its version and context block) as OUT_DIR/NAME.json. OUT_DIR defaults to this
# folder, which replaces the recorded files: do that only on purpose, and say why in the commit
# (README.md). Into another folder it makes outputs to diff: `diff -r` of two such folders,
# made before and after a change on one machine, shows every number the change moved.
#   tests/golden/make_golden.sh BUILD_DIR [OUT_DIR]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:?usage: make_golden.sh BUILD_DIR [OUT_DIR]}
out=${2:-$here}
mkdir -p "$out"
out=$(cd "$out" && pwd)
tests="$build/gradflow_tests"
[ -x "$tests" ] || { echo "make_golden.sh: no $tests; build first (cmake --build $build)" >&2; exit 2; }
# The comparing test does the running and stripping too, so both read the same table the same way.
rm -f "$out"/*.json
GRADFLOW_GOLDEN_WRITE="$out" "$tests" --source-file='*/golden_test.cc'
echo "make_golden.sh: $(ls "$out"/*.json | wc -l) golden files in $out"
