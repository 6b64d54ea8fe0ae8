#!/usr/bin/env bash
# Regenerates every example's snapshot series with the capture agent (python/leakbook.py).
# Addresses and times differ from run to run; the programs themselves are deterministic (fixed work per round,
# fixed hash seed), so counts, lengths and retention paths come out the same.
set -euo pipefail

cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD/python${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONHASHSEED=0
PYTHON="${PYTHON:-python3}"

for name in cache tree strbuf holder steady; do
  rm -rf "examples/$name/snapshots"
  "$PYTHON" "examples/$name/app.py" "examples/$name/snapshots"
done

# The cache example once more under `leakbook run --tracemalloc`, so its snapshots carry allocation sites.
# The long interval leaves only the program's own snapshots plus the agent's one at exit.
rm -rf examples/cache/snapshots-tracemalloc
"$PYTHON" -m leakbook run --tracemalloc --interval 3600 --out examples/cache/snapshots-tracemalloc \
  examples/cache/app.py examples/cache/snapshots-tracemalloc

ls -l examples/*/snapshots*/
