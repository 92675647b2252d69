#!/usr/bin/env bash
# Fails the build when the second kernel link moved any text symbol: the
# embedded symbol table (made from the first link) would then lie.
set -euo pipefail
a=$(nm -n --defined-only "$1" | awk '$2 ~ /^[tTwW]$/')
b=$(nm -n --defined-only "$2" | awk '$2 ~ /^[tTwW]$/')
if [ "$a" != "$b" ]; then
  echo "check-ksyms: text symbols moved between kernel link passes" >&2
  diff <(echo "$a") <(echo "$b") | head -20 >&2
  exit 1
fi
