"""An event stream split with itertools.tee: one branch is consumed per request, the audit branch never is.

Real-world bug class: a tee() branch kept for later and never read. The tee keeps every item the other branch has
passed in a linked buffer below the unread branch.
A right diagnosis gives one finding reached from sys.modules['__main__'].audit (not one per link of the buffer) and
says to read or drop the unread branch.
"""
# verdict: leak
# kinds: library-leak|long-lived-large|growing-container
# holder: sys.modules['__main__'].audit
# remedy: drop the branch
import itertools
import rounds


def events():
    n = 0
    while True:
        yield {"seq": n, "kind": "evt", "data": "d" * 30, "tags": ["t%d" % (n % 7), "src"]}
        n += 1


live, audit = itertools.tee(events())


def handle(n):
    for _ in range(3):
        next(live)   # audit is never read: tee buffers every event for it


rounds.run(handle, 300)
