"""A message encoder that reuses one pickle.Pickler for every message and never clears its memo.

Real-world bug class: a long-lived Pickler (or Unpickler) for a stream of independent messages. The C Pickler's
memo maps every object it has written to its position so later references can point back; it is never cleared,
and the Pickler does not report the memo's references to the garbage collector, so the messages stay alive while
no Python-visible path reaches them.
A right diagnosis reports growth no visible holder keeps, lays it at the long-lived Pickler
(sys.modules['__main__'].pickler) and says to call clear_memo() or use a fresh Pickler per message.
"""
# verdict: leak
# kinds: object-growth
# holder: sys.modules['__main__'].pickler
# remedy: clear_memo()
import io
import pickle

import rounds

sink = io.BytesIO()
pickler = pickle.Pickler(sink, protocol=4)


def handle(n):
    message = {"id": n, "user": "user-%d" % n, "items": [("sku-%d" % (n * 3 + i), i) for i in range(3)]}
    pickler.dump(message)  # the memo keeps `message` and everything in it
    sink.seek(0)
    sink.truncate()


rounds.run(handle, 400)
