#!/usr/bin/env bash
# Fails when a tracked C++ source differs from what clang-format (the repo's .clang-format)
# makes of it, listing the files. Fix with: clang-format -i $(git ls-files '*.cc' '*.h')
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 1
if ! command -v clang-format >/dev/null; then
  echo "SKIP: clang-format is not installed"
  exit 77
fi
if [[ -d .git ]] || git rev-parse --git-dir >/dev/null 2>&1; then
  mapfile -t files < <(git ls-files '*.cc' '*.h')
else
  mapfile -t files < <(find daemon kni snmp tests -name '*.cc' -o -name '*.h')
fi
bad=()
for f in "${files[@]}"; do
  clang-format --dry-run -Werror "$f" >/dev/null 2>&1 || bad+=("$f")
done
if ((${#bad[@]})); then
  echo "FAIL: ${#bad[@]} of ${#files[@]} C++ files are not clang-formatted:"
  printf '  %s\n' "${bad[@]}"
  exit 1
fi
echo "PASS: ${#files[@]} C++ files match .clang-format"
