"""A blinker signal that gains a strongly held bound-method receiver per handled order.

Models the event-bus leak blinker users hit: each request builds a small handler object (here an ``OrderMailer``
carrying the order and a rendered e-mail body) and subscribes its bound method to an application-wide named signal
with ``connect(mailer.on_order_shipped, weak=False)``. ``weak=False`` is there because with the default weak reference
the bound method (a temporary object) was dropped at once and the receiver never fired. Nothing disconnects it, so the
signal's ``receivers`` dict (receiver id to receiver) keeps every bound method and, through ``__self__``, every mailer
with its order; blinker's ``_by_receiver`` and ``_by_sender`` indexes grow alongside, and every ``send`` calls all of
them.

A right diagnosis names ``sys.modules['__main__'].order_shipped.receivers``, the receiver registry inside the library
object the program keeps, as the growing holder. The remedy: connect with the default ``weak=True`` and keep the
handler object alive only as long as it is needed (blinker then holds a ``WeakMethod`` and disconnects on collection),
or ``order_shipped.disconnect(receiver)`` once the order is done; better, one module-level receiver that looks the
order up.
"""
# verdict: leak
# kinds: library-leak|growing-container
# holder: order_shipped.receivers

import blinker

from rounds import run

order_shipped = blinker.signal("order-shipped")


class OrderMailer:
    def __init__(self, order):
        self.order = order
        self.body = "Dear %s,\nyour order %s with %d lines has shipped.\n" % (
            order["customer"], order["id"], len(order["lines"]))
        self.sent = False

    def on_order_shipped(self, sender, order_id=None):
        if order_id == self.order["id"]:
            self.sent = True


def handle(n):
    order = {"id": "o%06d" % n, "customer": "customer %d" % (n % 211),
             "lines": [{"sku": "SKU-%d" % (n * 7 % 500 + i), "qty": i + 1} for i in range(3)]}
    mailer = OrderMailer(order)
    order_shipped.connect(mailer.on_order_shipped, weak=False)  # the bug: strong, and never disconnected
    if n % 25 == 0:
        order_shipped.send("warehouse", order_id=order["id"])


run(handle, 120)
