"""A router that compiles a regular expression per request from distinct patterns (re.compile / re.match on strings).

re keeps compiled patterns in a module-level cache (re._cache), but it is bounded (_MAXCACHE entries, evicting the
oldest), so many distinct patterns churn entries without growth.
A right diagnosis says no leak: re's cache is full and bounded.
"""
# verdict: no-leak
import re

import rounds


def route(n):
    pattern = r"^/api/v%d/(?P<resource>items|orders)/(?P<id>\d+)/tag-%d$" % (n % 3 + 1, n)
    path = "/api/v%d/orders/%d/tag-%d" % (n % 3 + 1, n * 7, n)
    m = re.match(pattern, path)
    return m.group("id") if m else None


rounds.run(route, 400)
