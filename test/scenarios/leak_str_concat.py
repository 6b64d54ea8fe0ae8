"""A long-lived session object that appends every request line to one str attribute (self.transcript += line).

Real-world bug class: a string or buffer that only gets longer (an in-memory log, a debug transcript). The number
of objects stays flat: one str is replaced by a longer one each time, so only the bytes grow.
A right diagnosis reports string growth at sys.modules['__main__'].session.transcript and says to write to a
bounded structure (a deque of lines, a rotating log file) instead.
"""
# verdict: leak
# kinds: string-growth
# holder: session.transcript
import rounds


class Session:
    def __init__(self):
        self.transcript = ""

    def record(self, n):
        line = "%06d GET /api/items/%d?fields=name,price,stock 200 %dms\n" % (n, n, n % 40)
        self.transcript += line


session = Session()
rounds.run(session.record, 1000)
