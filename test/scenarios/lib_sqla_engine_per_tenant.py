"""A multi-tenant service that creates a SQLAlchemy Engine per tenant (create_engine with the tenant's URL) on first
use and caches it in a module-level dict. Tenants here are per-request (e.g. per-session sandboxes), so the dict
keeps every Engine, with its dialect, pool and pooled DBAPI connection.

True holder: sys.modules['__main__'].ENGINES
"""
# verdict: leak
# kinds: library-leak|growing-container
# holder: sys.modules['__main__'].ENGINES
# remedy: one Engine per database
import sqlalchemy as sa

import rounds

ENGINES = {}


def engine_for(tenant):
    eng = ENGINES.get(tenant)
    if eng is None:
        eng = sa.create_engine("sqlite://", pool_size=1)
        ENGINES[tenant] = eng  # bug: one engine per (ever-new) tenant
    return eng


def handle(n):
    eng = engine_for("sandbox-%d" % n)
    with eng.connect() as conn:
        return conn.execute(sa.text("select :x + 1"), {"x": n}).scalar()


rounds.run(handle, 40)
