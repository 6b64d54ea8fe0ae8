"""A recent-requests buffer, collections.deque(maxlen=1000), that is still filling up while the series is taken.

Port of the deque_maxlen repro. The deque is bounded by construction: it grows during the series only because
it has not reached its maxlen yet (150 requests a round, full after round 6). Each request also builds and
drops a response, so the heap churns.
A right diagnosis says no leak: a deque with a maxlen is bounded, whatever its growth so far.
"""
# verdict: no-leak
import collections

import rounds

recent = collections.deque(maxlen=1000)


def handle(n):
    n += 1_000_000  # request ids of a service that has been up a while (no small-int sharing)
    response = {"status": 200, "rows": [("row-%d" % i, i * n) for i in range(20)]}
    recent.append({"request": n, "path": "/item/%d" % n})
    return len(response["rows"])


rounds.run(handle, 150)
