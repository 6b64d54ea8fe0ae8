"""A lookup table filled lazily on first use: it fills during the first interval of the series, then is only read.

A module-level dict keyed by 1000 + n % 900: after the warm-up (300 requests) it has 300 entries, 600 at the first
snapshot, 900 at the second, and from then on every request hits an existing key. Each request also allocates
and drops a response.
A right diagnosis says no leak: one interval of growth then a flat series is a table reaching its full size.
"""
# verdict: no-leak
import rounds

TABLE = {}


def handle(n):
    key = 1000 + n % 900
    entry = TABLE.get(key)
    if entry is None:
        entry = TABLE[key] = {"key": key, "label": "product %d" % key, "tags": ["a", "b"]}
    response = {"label": entry["label"], "lines": ["line %d" % i for i in range(15)]}
    return len(response["lines"])


rounds.run(handle, 300)
