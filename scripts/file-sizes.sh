#!/usr/bin/env bash
# File-size distribution of the Swift sources at a commit (default: the work tree): count, median,
# 90th percentile, largest files. Usage: scripts/file-sizes.sh [COMMIT] [PATH...]  (paths default: Sources)
set -euo pipefail
cd "$(dirname "$0")/.."
rev=${1:-}
shift || true
paths=("${@:-Sources}")
if [ -n "$rev" ]; then
  list() { git ls-tree -r --name-only "$rev" -- "${paths[@]}" | grep '\.swift$' | while read -r f; do printf '%s %s\n' "$(git show "$rev:$f" | wc -l)" "$f"; done; }
else
  list() { find "${paths[@]}" -name '*.swift' -print0 | xargs -0 wc -l | grep -v ' total$' | awk '{print $1, $2}'; }
fi
list | sort -n > /tmp/file-sizes.$$
n=$(wc -l < /tmp/file-sizes.$$)
at() { sed -n "$(( ($1 * n + 99) / 100 ))p" /tmp/file-sizes.$$ | cut -d' ' -f1; }
echo "files $n, median $(at 50) lines, p90 $(at 90) lines, max $(tail -1 /tmp/file-sizes.$$ | cut -d' ' -f1) lines"
echo "largest:"; tail -8 /tmp/file-sizes.$$ | sort -rn | sed 's/^/  /'
rm -f /tmp/file-sizes.$$
