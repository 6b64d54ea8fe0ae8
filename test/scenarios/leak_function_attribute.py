"""A rate limiter that keeps its per-client history as an attribute of the function itself (handle.seen).

Real-world bug class: state stored on a function object (`f.calls = []` patterns for counters, throttles, test
spies left in). The list hangs off the function's __dict__; per-client keys never expire.
A right diagnosis names sys.modules['__main__'].allow.seen as the growing container and says to expire old
entries (bounded deque per client, or a TTL sweep).
"""
# verdict: leak
# kinds: growing-container
# holder: allow.seen
import rounds


def allow(client, now):
    history = allow.seen.setdefault(client, [])
    history.append(now)  # old timestamps never expire, clients never leave
    return len(history) < 100


allow.seen = {}


def handle(n):
    return allow("client-%d" % n, 1_700_000_000.0 + n)


rounds.run(handle, 300)
