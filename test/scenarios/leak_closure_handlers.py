"""An event bus whose per-request handlers are closures over the request's data, subscribed and never removed.

Real-world bug class: closures registered as callbacks. Each lambda/inner function keeps its closure cells, and
the cells keep the request, so the bus's handler list keeps every request it ever saw.
A right diagnosis names the bus's handler list (sys.modules['__main__'].bus.handlers) holding closures whose
cells keep per-request dicts, and says to unsubscribe when the request ends (or subscribe once, outside the
request).
"""
# verdict: leak
# kinds: closure-retention|growing-container
# holder: bus.handlers
import rounds


class EventBus:
    def __init__(self):
        self.handlers = []

    def subscribe(self, handler):
        self.handlers.append(handler)

    def publish(self, event):
        for handler in self.handlers[-3:]:
            handler(event)


bus = EventBus()


def handle(n):
    request = {"id": n, "path": "/orders/%d" % n, "headers": {"x-trace": "t-%d" % n}}

    def on_order_paid(event):
        request["paid"] = event

    bus.subscribe(on_order_paid)  # never unsubscribed
    bus.publish("paid-%d" % n)


rounds.run(handle, 300)
