#!/usr/bin/env bash
# Formats every C++ source of the repository in place with clang-format (.clang-format: Google
# style, 120 columns). Generated code and the build trees are left alone.
# Usage: bash scripts/format.sh          (format)
#        bash scripts/format.sh --check  (list the files that would change; exit 1 if any)
set -euo pipefail
cd "$(dirname "$0")/.."
FORMAT=${CLANG_FORMAT:-clang-format}
mapfile -t files < <(git ls-files '*.cc' '*.h')
if [ "${1:-}" = "--check" ]; then
  changed=0
  for f in "${files[@]}"; do
    if ! "$FORMAT" --style=file "$f" | cmp -s - "$f"; then
      echo "$f"
      changed=1
    fi
  done
  exit "$changed"
fi
"$FORMAT" --style=file -i "${files[@]}"
echo "format: ${#files[@]} files formatted"
