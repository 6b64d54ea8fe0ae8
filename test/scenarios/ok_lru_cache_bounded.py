"""A functools.lru_cache(maxsize=256) fed with many distinct keys: the cache is full and evicts on every miss.

The bounded counterpart of an unbounded cache: 400 calls a round on ever new keys, so entries churn while the
cache size stays at 256.
A right diagnosis says no leak (a bounded lru_cache at its maxsize is not growing).
"""
# verdict: no-leak
import functools

import rounds


@functools.lru_cache(maxsize=256)
def render_badge(user_id):
    return {"user": user_id, "svg": "<svg>%d</svg>" % user_id, "colors": ["#%06x" % (user_id * 7919 % 0xFFFFFF)]}


def handle(n):
    return len(render_badge(n)["svg"])


rounds.run(handle, 400)
