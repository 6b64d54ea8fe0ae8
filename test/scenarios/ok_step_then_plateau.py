"""An LRU (OrderedDict trimmed to 400 entries) that fills during the first interval and then stays full.

Port of the step_then_plateau repro. 150 requests a round over 2,000 rotating keys (1,000 to 2,999): 150 entries after the warm-up,
300 at the first snapshot, full (400) at the second, then flat while entries churn. One step, then a plateau.
A right diagnosis says no leak: growth in one interval followed by a flat series is a cache reaching its bound.
"""
# verdict: no-leak
import collections

import rounds

recent = collections.OrderedDict()  # LRU of the last 400 requests' results


def handle(n):
    n += 1_000_000  # request ids of a service that has been up a while (no small-int sharing)
    key = 1000 + n % 2000
    recent[key] = {"n": n, "body": "x" * 100}
    recent.move_to_end(key)
    if len(recent) > 400:
        recent.popitem(last=False)
    scratch = [str(i) for i in range(30)]
    return len(scratch)


rounds.run(handle, 150)
