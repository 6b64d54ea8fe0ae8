"""A debug log written to a module-level io.StringIO that is never read or truncated.

Real-world bug class: an in-memory log or report buffer that lives as long as the process. On CPython 3.11 and
older, a StringIO that is only written to keeps the written strings in a list of pieces that it does not report
to the garbage collector, so that list grows with no root reaching it (found through gc.get_objects()).
A right diagnosis lays the growing list at the long-lived StringIO (sys.modules['__main__'].debug_log) and says to
write to a file or a bounded deque, or to empty the buffer.
"""
# verdict: leak
# kinds: growing-container
# holder: sys.modules['__main__'].debug_log
# remedy: StringIO
import io
import rounds

debug_log = io.StringIO()


def handle(n):
    line = "%08d GET /api/items/%d status=200 took=%dms agent=curl/8.0 trace=%s\n" % (n, n, n % 97, "ab" * 30)
    debug_log.write(line)


rounds.run(handle, 3000)
