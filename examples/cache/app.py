"""A request handler that caches without bounds.

Two caches only ever grow: the module-level dict `_profile_cache` (one UserProfile per user, never evicted) and
`render_badge`, a `functools.lru_cache(maxsize=None)` keyed by (user, request) so it never hits. Every request
also makes short-lived garbage, as real handlers do.

Usage: python3 examples/cache/app.py [OUT_DIR [ROUNDS]]   (default: examples/cache/snapshots, 4 rounds)
"""
import functools
import gc
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "python"))
import leakbook  # noqa: E402  (the capture agent, found through the line above when not on PYTHONPATH)

ROUNDS = 4
REQUESTS_PER_ROUND = 200


class UserProfile:
    def __init__(self, user_id):
        self.user_id = user_id
        self.name = f"user-{user_id:06d}"
        self.roles = ["reader", "commenter"]
        self.settings = {"theme": "dark", "page_size": 50}


# Module-level cache that is filled on every miss and never evicted: the leak.
_profile_cache = {}


def load_profile(user_id):
    profile = _profile_cache.get(user_id)
    if profile is None:
        profile = UserProfile(user_id)
        _profile_cache[user_id] = profile
    return profile


@functools.lru_cache(maxsize=None)  # unbounded, and the request id in the key means it never hits
def render_badge(user_id, request_id):
    return f"<span class='badge'>{user_id:06d}/{request_id:06d}</span>"


def handle_request(request_id):
    user_id = 1000 + request_id  # every request comes from a new user
    profile = load_profile(user_id)
    scratch = [profile.name.upper() for _ in range(10)]  # per-request garbage
    return len(render_badge(user_id, request_id)) + len(scratch)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "snapshots")
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else ROUNDS
    os.makedirs(out, exist_ok=True)
    request_id = 0
    for round_no in range(-1, rounds):  # round -1 warms up: one-off start-up allocations precede the first snapshot
        for _ in range(REQUESTS_PER_ROUND):
            handle_request(request_id)
            request_id += 1
        gc.collect()
        if round_no < 0:
            # The agent's first capture imports a few modules of its own: take it in the warm-up and discard it.
            os.remove(leakbook.snapshot(os.path.join(out, "warm-up.lbsnap")))
        else:
            leakbook.snapshot(os.path.join(out, f"cache-{round_no}.lbsnap"))


if __name__ == "__main__":
    main()
