"""A client library that registers a cleanup with atexit for every connection it opens and never unregisters it.

Real-world bug class: atexit.register(conn.close) per object. The atexit module keeps its callbacks in C (the
interpreter state), not in any Python container, so the connections and their buffers stay alive until exit
while no Python-visible path reaches them (gc.get_referrers finds nothing).
A right diagnosis reports the growth of __main__.Connection objects held by no visible holder (object-growth,
held from C), and a remedy that mentions atexit.unregister / weakref.finalize or closing explicitly.
"""
# verdict: leak
# kinds: object-growth|library-leak
# type: Connection|builtins.method
import atexit

import rounds


class Connection:
    def __init__(self, n):
        self.peer = "10.0.%d.%d" % (n // 256 % 256, n % 256)
        self.buffer = bytearray(256)
        self.sent = ["HELLO %d" % n]

    def close(self):
        self.sent.clear()


def request(n):
    conn = Connection(n)
    atexit.register(conn.close)  # one callback per connection, kept until the interpreter exits
    conn.sent.append("GET /item/%d" % n)
    return len(conn.sent)


rounds.run(request, 300)
