"""A session cache with a TTL: each request adds a session and sweeps the ones older than 250 requests.

The cache always holds about 250 live sessions, with entries churning every request (a logical clock keeps the
program deterministic). The standard shape of a correct cache with expiry.
A right diagnosis says no leak: the cache's size is constant.
"""
# verdict: no-leak
import rounds

TTL = 250


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
    n += 1_000_000  # request ids of a service that has been up a while (no small-int sharing)
    sessions.put("sess-%d" % n, {"user": "user-%d" % (n % 97), "cart": [n, n + 1, n + 2]})


rounds.run(handle, 300)
