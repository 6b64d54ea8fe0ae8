#!/usr/bin/env bash
# Regenerates every example's snapshot series with the capture agent (python/leakbook.py).
# Addresses and times differ from run to run; the programs themselves are deterministic (fixed work per round,
# fixed hash seed), so counts, lengths and retention paths come out the same. `-S` skips the site module: no
# site-packages .pth hooks, a smaller heap, and snapshots that do not depend on what this machine has installed.
set -euo pipefail

cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD/python${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONHASHSEED=0
PYTHON="${PYTHON:-python3}"

for name in cache tree strbuf holder steady; do
  rm -rf "examples/$name/snapshots"
  "$PYTHON" -S "examples/$name/app.py" "examples/$name/snapshots"
done

# The cache example once more under `leakbook run --tracemalloc`, so its snapshots carry allocation sites.
# The long interval leaves only the program's own snapshots (3 rounds, to keep the repository small) plus the
# agent's one at exit.
rm -rf examples/cache/snapshots-tracemalloc
"$PYTHON" -S -m leakbook run --tracemalloc --interval 3600 --out examples/cache/snapshots-tracemalloc \
  examples/cache/app.py examples/cache/snapshots-tracemalloc 3

# A pre-fork server's six workers, two of which leak into the same dict: census snapshots, one folder per host
# and pid (the fleet notebook's and `leakbook fleet`'s example).
rm -rf examples/fleet/snapshots
"$PYTHON" -S examples/fleet/app.py examples/fleet/snapshots --workers 6 --leaky 1,4 --census --rounds 5 > /dev/null

ls -l examples/*/snapshots*/
