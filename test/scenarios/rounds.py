# The shared driver of the scenario programs: one warm-up round, then ROUNDS rounds of equal work, each followed by a
# collection and a snapshot, the way a user captures a service under steady load. Every scenario program imports it
# (its folder is on sys.path when the program runs) and calls run(); the snapshots go to the folder in sys.argv[1].
import gc
import os
import sys

import leakbook

ROUNDS = 4


def run(work, per_round, rounds=ROUNDS, warmup=True):
    """Calls work(n) per_round times per round, n counting up over the whole run; a snapshot after each round."""
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    n = 0
    for r in range(-1 if warmup else 0, rounds):
        for _ in range(per_round):
            work(n)
            n += 1
        gc.collect()
        if r >= 0:
            leakbook.snapshot(os.path.join(out, "s-%d.lbsnap" % (r + 1)))
