"""An audit trail kept in a contextvars.ContextVar whose value, a list, is set once and appended to per request.

Real-world bug class: a ContextVar used as a mutable global. The list set in the top-level context is shared by
every request that runs in that context, so appending to it grows it for ever; the list is reached only through
the context (held by the thread state) and the ContextVar.
A right diagnosis names the list held in the context for sys.modules['__main__'].audit_trail (the ContextVar) as
a growing container, and says to set a fresh value per request (token = var.set([]) ... var.reset(token)).
"""
# verdict: leak
# kinds: growing-container
# holder: audit_trail
import contextvars

import rounds

audit_trail = contextvars.ContextVar("audit_trail")
audit_trail.set([])


def handle(n):
    trail = audit_trail.get()
    trail.append(("request", n, "user-%d" % (n % 97), "GET /cart/%d" % n))
    return len(trail)


rounds.run(handle, 400)
