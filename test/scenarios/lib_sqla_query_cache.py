"""ORM query results memoised in a module-level dict keyed by the request's filter values.

Models the "cache the expensive report query" shortcut: a reporting endpoint runs an SQLAlchemy query and stores the
list of ORM instances in a module dict keyed by the request's parameters (customer, date range, page), with no size
bound and no expiry. The key space is as large as the set of distinct requests, so the dict only grows; each entry
keeps live ORM instances with their ``InstanceState`` (``_sa_instance_state``), their attribute dicts and the loaded
values, far more than the rows' data. Because the instances stay strongly referenced, SQLAlchemy's weak identity map
cannot let them go either.

A right diagnosis names the program's own dict ``sys.modules['__main__'].report_cache`` as the growing container. The
remedy: bound it (``functools.lru_cache(maxsize=...)`` over a function of small key values, or a TTL cache), and cache
plain tuples or dicts (``session.execute(select(...)).all()`` rows, ``.mappings()``) rather than session-bound ORM
instances.
"""
# verdict: leak
# kinds: growing-container
# holder: sys.modules['__main__'].report_cache

import sqlalchemy as sa
from sqlalchemy.orm import Session, declarative_base

from rounds import run

Base = declarative_base()


class Invoice(Base):
    __tablename__ = "invoices"
    id = sa.Column(sa.Integer, primary_key=True)
    customer = sa.Column(sa.Integer, nullable=False, index=True)
    month = sa.Column(sa.Integer, nullable=False)
    amount_cents = sa.Column(sa.Integer, nullable=False)
    memo = sa.Column(sa.String(60))


engine = sa.create_engine("sqlite://")
Base.metadata.create_all(engine)
with engine.begin() as conn:
    conn.execute(Invoice.__table__.insert(),
                 [{"customer": i % 400, "month": 1 + i % 12, "amount_cents": i * 37 % 99991, "memo": "invoice no. %d" % i}
                  for i in range(4000)])

report_cache = {}


def report(n):
    key = ("customer", n % 1000, "page", n // 1000)  # a new key for almost every request
    if key not in report_cache:
        with Session(engine) as session:
            rows = session.scalars(sa.select(Invoice).where(Invoice.customer == n % 400).limit(4)).all()
        report_cache[key] = rows  # detached ORM instances, kept for ever
    return report_cache[key]


run(report, 100)
