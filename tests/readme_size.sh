#!/usr/bin/env bash
# The README stays a short, task-shaped entry point (issue 14): at most 10,240 bytes. The
# complete reference lives in docs/.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
limit=10240
size=$(wc -c <"$root/README.md")
if [ "$size" -gt "$limit" ]; then
    echo "README.md is $size bytes, more than $limit: move detail into docs/ and link it" >&2
    exit 1
fi
echo "README.md: $size bytes (limit $limit)"
