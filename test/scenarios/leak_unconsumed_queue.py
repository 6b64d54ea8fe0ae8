"""A producer that puts audit events on a queue.Queue whose consumer thread was never started.

Real-world bug class: an unbounded queue with no (or a too slow) consumer. queue.Queue(maxsize=0) keeps every item
in its internal deque (Queue.queue), which grows with each put.
A right diagnosis names the queue's deque (sys.modules['__main__'].AUDIT_QUEUE.queue) as the growing container and
says to bound the queue (maxsize) and make sure the consumer runs.
"""
# verdict: leak
# kinds: growing-container|library-leak
# holder: AUDIT_QUEUE
import queue

import rounds

AUDIT_QUEUE = queue.Queue()  # the consumer was meant to start in a setup step that no longer runs


def handle(n):
    AUDIT_QUEUE.put({"event": "order.created", "id": n, "by": "user-%d" % (n % 31)})


rounds.run(handle, 300)
