"""A long-lived SQLAlchemy Session that collects pending objects and is never committed.

Models a worker that opens one ``Session`` at start-up and "buffers" audit rows by calling ``session.add(...)`` for
every event, meaning to flush them in batches; the batch commit only happens on a code path that rarely runs (here:
never), and autoflush never fires because the worker does not query through that session. A pending object is held
strongly by the session until it is flushed or expunged: SQLAlchemy keeps it in the session's ``_new`` dict (instance
state to object), so the session becomes an unbounded write buffer. Users report this as "memory grows until the
nightly job commits" or "session.new has millions of objects".

A right diagnosis names the session's pending-object dict, ``sys.modules['__main__'].audit_session._new``, as the
growing holder (a library container fed by the program). The remedy: commit (or flush and ``expunge_all()``) in bounded
batches, or use a short-lived session per batch (``with Session(engine) as s, s.begin(): s.add_all(rows)``).
"""
# verdict: leak
# kinds: library-leak|growing-container
# holder: audit_session._new

import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session, declarative_base

from rounds import run

Base = declarative_base()


class AuditRow(Base):
    __tablename__ = "audit"
    id = sa.Column(sa.Integer, primary_key=True)
    actor = sa.Column(sa.String(40), nullable=False)
    action = sa.Column(sa.String(40), nullable=False)
    detail = sa.Column(sa.Text)
    at = sa.Column(sa.DateTime, nullable=False)


engine = sa.create_engine("sqlite://")
Base.metadata.create_all(engine)
audit_session = Session(engine)
BATCH = 10_000_000  # meant to be 500; a typo nobody noticed


def record(n):
    audit_session.add(AuditRow(actor="user%d" % (n % 300), action="view", detail="opened document %d" % n,
                               at=datetime.datetime(2024, 1, 1) + datetime.timedelta(seconds=n)))
    if len(audit_session.new) >= BATCH:
        audit_session.commit()


run(record, 300)
