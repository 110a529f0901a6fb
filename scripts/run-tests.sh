#!/usr/bin/env bash
# Runs the whole test suite and, when it fails, ends with a short summary: CI shows only the tail of
# the output, and a crash's backtrace (with its image list) would otherwise push the name of the
# failing test out of sight.
set -uo pipefail
cd "$(dirname "$0")/.."

SWIFT="${SWIFT:-swift}"
log=".build/test-output.log"
mkdir -p .build

GATEWAY_BIN="$("$SWIFT" build --show-bin-path)/gateway"
export GATEWAY_BIN

"$SWIFT" test --disable-swift-testing "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
[ "$status" -eq 0 ] && exit 0

{
  echo
  echo "==================== test run failed (exit $status): summary ===================="
  echo "-- failed assertions and tests:"
  grep -E "error: |' failed \(" "$log" | head -40
  echo "-- tests started but never finished (a crash or a hang happened inside these):"
  python3 - "$log" <<'EOF'
import re, sys
started, finished = [], set()
for line in open(sys.argv[1], errors="replace"):
    m = re.search(r"Test Case '([^']+)' (started|passed|failed|skipped)", line)
    if not m:
        continue
    if m.group(2) == "started":
        started.append(m.group(1))
    else:
        finished.add(m.group(1))
for name in started:
    if name not in finished:
        print("   ", name)
EOF
  echo "-- crashed thread (first frames):"
  awk '/[Cc]rashed:?$|crashed:/ {on=1; n=0} on && n < 45 {print; n++}' "$log"
  echo "================================================================================="
} >&2
exit "$status"
