"""Nothing at all happens between the snapshots, in a process with a realistic heap (sqlalchemy, its ORM and flask).

Port of the noop_rss repro. The only thing that changes between snapshots is the capture itself (its buffers,
the arenas it touches, RSS). About 150k objects.
A right diagnosis says no leak, and no memory warning: RSS moves because of the captures, not the program.
"""
# verdict: no-leak
import sqlalchemy  # noqa: F401  (a heap of realistic size)
import sqlalchemy.orm  # noqa: F401
import flask  # noqa: F401

import rounds


def idle(n):
    return None


rounds.run(idle, 1)
