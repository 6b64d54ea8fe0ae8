"""A process-wide contextlib.ExitStack; every request pushes a cleanup callback onto it and it is never closed.

Real-world bug class: an ExitStack meant for one unit of work kept at module level (or on a long-lived service).
Each callback (a bound method of the request's resource, wrapped in a closure) stays on the stack, with the
resource, until the stack is closed at shutdown.
A right diagnosis names the stack's callback deque (sys.modules['__main__'].app_stack._exit_callbacks) and says
to use an ExitStack per request or close it when the request ends.
"""
# verdict: leak
# kinds: library-leak|bound-method-retention|closure-retention|growing-container
# holder: sys.modules['__main__'].app_stack
# remedy: ExitStack per unit of work
import contextlib
import rounds


class Resource:
    def __init__(self, n):
        self.n = n
        self.buf = ["chunk-%d-%d" % (n, i) for i in range(4)]

    def release(self):
        self.buf.clear()


app_stack = contextlib.ExitStack()


def handle(n):
    res = Resource(n)
    app_stack.callback(res.release)   # meant for a per-request stack; never unwound until shutdown
    return len(res.buf)


rounds.run(handle, 300)
