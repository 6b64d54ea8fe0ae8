"""Control: a long-lived pickle.Pickler whose memo is cleared after every message, and fresh Picklers per request.

The long-lived Pickler is what leak_pickler_memo lays its growth at; here nothing grows, so nothing may be
reported about it.
"""
# verdict: no-leak
import io
import json
import pickle

import rounds

stream = io.BytesIO()
pickler = pickle.Pickler(stream, protocol=4)
totals = {"bytes": 0}


def handle(n):
    message = {"id": n, "user": "user-%d" % n, "items": [("sku-%d" % (n * 3 + i), i) for i in range(20)]}
    pickler.dump(message)
    pickler.clear_memo()
    stream.seek(0)
    stream.truncate()
    once = io.BytesIO()
    pickle.Pickler(once, protocol=4).dump(message)
    back = pickle.loads(once.getvalue())
    totals["bytes"] += len(json.dumps(back))  # an int only


rounds.run(handle, 300)
