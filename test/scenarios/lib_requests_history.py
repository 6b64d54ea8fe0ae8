"""An API client that keeps every ``PreparedRequest`` it built in a history list on itself.

Models a client class with a "replay for debugging" feature: each call builds the request with
``requests.Request(...).prepare()`` and appends the ``PreparedRequest`` to ``self.history`` so a failing call can be
inspected or re-sent later; nothing trims it. A ``PreparedRequest`` is heavier than it looks: its own headers
(``CaseInsensitiveDict`` over an ``OrderedDict``), the encoded body bytes, the full URL, the hooks dict and the cookie
jar reference. The client is a module-level singleton, so the list grows with the number of calls. No network: the
requests are only prepared.

A right diagnosis names the client's own list, ``sys.modules['__main__'].client.history``, as the growing container.
The remedy: ``collections.deque(maxlen=50)`` for a debugging history, keep only ``(method, url, status)`` tuples, or
record failures only.
"""
# verdict: leak
# kinds: growing-container
# holder: client.history

import requests

from rounds import run


class InventoryClient:
    base = "https://inventory.invalid/v1"

    def __init__(self):
        self.history = []
        self.token = "tok-" + "x" * 24

    def reserve(self, sku, qty, warehouse):
        request = requests.Request(
            "PUT", "%s/warehouses/%s/skus/%s/reservation" % (self.base, warehouse, sku),
            headers={"Authorization": "Bearer " + self.token, "X-Trace": "%s-%d" % (sku, qty)},
            json={"sku": sku, "qty": qty, "warehouse": warehouse, "note": "reserved by order flow"},
            params={"dry_run": "false"})
        prepared = request.prepare()
        self.history.append(prepared)  # the bug: kept for ever "for replay"
        return prepared


client = InventoryClient()


def call(n):
    client.reserve("SKU-%05d" % (n % 4000), 1 + n % 5, "wh%d" % (n % 6))


run(call, 120)
