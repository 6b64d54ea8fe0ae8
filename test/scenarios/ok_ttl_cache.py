"""A session cache with a TTL: each request adds a session and sweeps the ones older than 500 requests.

The cache always holds about 500 live sessions, with entries churning every request (a logical clock keeps the
program deterministic). The standard shape of a correct cache with expiry.
A right diagnosis says no leak: the cache's size is constant.
"""
# verdict: no-leak
import rounds

TTL = 500


class SessionCache:
    def __init__(self):
        self.entries = {}
        self.clock = 0

    def put(self, key, value):
        self.clock += 1
        self.entries[key] = (self.clock, value)
        expired = [k for k, (t, _) in self.entries.items() if self.clock - t >= TTL]
        for k in expired:
            del self.entries[k]


sessions = SessionCache()


def handle(n):
    sessions.put("sess-%d" % n, {"user": "user-%d" % (n % 97), "cart": [n, n + 1, n + 2]})


rounds.run(handle, 300)
