"""A service object that keeps every validated pydantic model in a list attribute.

Models an event-ingestion service: each incoming JSON payload is validated into a pydantic model (nested models for
the line items and the address), handed on, and also appended to ``self.processed`` on the long-lived service
instance, originally to de-duplicate retries within a batch; the batch reset was lost in a refactor. Pydantic v1
models are ordinary Python objects with a ``__dict__`` of validated values, a ``__fields_set__`` set and nested model
instances, so each payload leaves several objects and a few hundred bytes behind.

A right diagnosis names the list attribute of the module-level service, ``sys.modules['__main__'].service.processed``,
as the growing container. The remedy: keep a bounded set of recent ids for de-duplication
(``deque(maxlen=...)``/a TTL cache of ``event.id``), or clear the list at the end of each batch.
"""
# verdict: leak
# kinds: growing-container
# holder: service.processed

import datetime
from typing import List, Optional

import pydantic

from rounds import run


class Address(pydantic.BaseModel):
    street: str
    city: str
    postcode: str
    country: str = "DE"


class LineItem(pydantic.BaseModel):
    sku: str
    qty: pydantic.conint(gt=0)
    unit_cents: int


class OrderEvent(pydantic.BaseModel):
    id: str
    customer: str
    placed_at: datetime.datetime
    items: List[LineItem]
    ship_to: Address
    coupon: Optional[str] = None


class IngestService:
    def __init__(self):
        self.processed = []
        self.total_cents = 0

    def ingest(self, payload):
        event = OrderEvent.parse_obj(payload)
        if any(e.id == event.id for e in self.processed[-5:]):
            return None
        self.processed.append(event)  # the bug: never reset after the batch
        self.total_cents += sum(i.qty * i.unit_cents for i in event.items)
        return event


service = IngestService()


def handle(n):
    service.ingest({
        "id": "evt-%07d" % n, "customer": "cust-%d" % (n % 900), "placed_at": "2024-03-01T12:%02d:%02d" % (n // 60 % 60, n % 60),
        "items": [{"sku": "SKU-%d" % (n % 300 + i), "qty": 1 + i, "unit_cents": 250 * (i + 1)} for i in range(2)],
        "ship_to": {"street": "Hauptstr. %d" % (n % 200), "city": "Berlin", "postcode": "10%03d" % (n % 1000)},
    })


run(handle, 120)
