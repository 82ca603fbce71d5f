#!/usr/bin/env bash
# Lint every RTL module (and the test fixtures, if any) with Verilator -Wall, each file as its own top.
# File name == module name; other modules are found through -y, packages (*_pkg.sv) are read first.
# Any warning fails (Verilator's warnings are fatal unless -Wno-fatal).
set -euo pipefail
cd "$(dirname "$0")/.."
shopt -s nullglob

packages=(rtl/*_pkg.sv)
search=(-y rtl)
files=(rtl/*.sv)
if [[ -d tb/fixtures ]]; then
  search+=(-y tb/fixtures)
  files+=(tb/fixtures/*.sv)
fi

failed=0
for file in "${files[@]}"; do
  [[ "$file" == *_pkg.sv ]] && continue
  top=$(basename "$file" .sv)
  if verilator --lint-only -Wall "${search[@]}" --top-module "$top" "${packages[@]}" "$file"; then
    echo "lint ok   $top"
  else
    echo "lint FAIL $top"
    failed=1
  fi
done
exit "$failed"
