"""A scoped_session scoped per request whose teardown never calls remove().

Models the Flask-SQLAlchemy-before-3.0 and hand-rolled "one session per request" setups: ``scoped_session`` is given a
``scopefunc`` that returns the current request's id (the way a greenlet or request-context ident function does), and
the request handler commits but the teardown that should call ``Session.remove()`` is missing (or only runs on
errors). ``scoped_session`` keeps one ``Session`` per scope key in the plain dict ``Session.registry.registry``, so
every request leaves its session behind, together with its identity map, transaction bookkeeping and the instance
states it touched. SQLAlchemy's documentation says it in so many words: with a custom scope the application must call
``remove()`` at the end of the scope.

A right diagnosis names ``sys.modules['__main__'].Session.registry.registry`` (the ScopedRegistry's dict inside the
program's scoped_session) as the growing holder. The remedy: call ``Session.remove()`` in the request teardown
(``app.teardown_appcontext`` in Flask), or use a thread-local scope that is reused rather than a key that is new for
every request.
"""
# verdict: leak
# kinds: library-leak|growing-container
# holder: .registry.registry

import sqlalchemy as sa
from sqlalchemy.orm import declarative_base, scoped_session, sessionmaker
from sqlalchemy.pool import StaticPool

from rounds import run

Base = declarative_base()


class Customer(Base):
    __tablename__ = "customers"
    id = sa.Column(sa.Integer, primary_key=True)
    name = sa.Column(sa.String(80), nullable=False)
    visits = sa.Column(sa.Integer, nullable=False, default=0)


engine = sa.create_engine("sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False})
Base.metadata.create_all(engine)
with engine.begin() as conn:
    conn.execute(Customer.__table__.insert(), [{"name": "customer %d" % i, "visits": 0} for i in range(50)])

current_request = {"id": None}
Session = scoped_session(sessionmaker(bind=engine), scopefunc=lambda: current_request["id"])


def handle(n):
    current_request["id"] = "req-%06d" % n
    session = Session()
    customer = session.get(Customer, 1 + n % 50)
    customer.visits += 1
    session.add(Customer(name="walk-in %d" % n))
    session.commit()
    # The bug: no Session.remove() here, so the registry keeps this request's session for ever.
    current_request["id"] = None


run(handle, 120)
