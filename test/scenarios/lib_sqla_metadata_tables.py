"""A shared SQLAlchemy MetaData gains a new Table per tenant request (per-tenant partition tables).

Real-world bug class: Table objects defined at run time for names that change per request. The MetaData keeps
every Table with its columns, indexes and the comparators SQLAlchemy links to each column both ways.
A right diagnosis names sys.modules['__main__'].metadata.tables (not the dialect's identifier cache, which only
grows with the table names) and says to define tables once or remove them from the MetaData.
"""
# verdict: leak
# kinds: library-leak|growing-container
# holder: sys.modules['__main__'].metadata
# remedy: metadata.remove
import sqlalchemy as sa
from rounds import run

metadata = sa.MetaData()
engine = sa.create_engine("sqlite://")


def table_for(n):
    # bug: defines a new Table for each request's partition and keeps it in the shared MetaData
    return sa.Table("events_%06d" % n, metadata,
                    sa.Column("id", sa.Integer, primary_key=True),
                    sa.Column("kind", sa.String(20)),
                    sa.Column("payload", sa.Text),
                    sa.Column("ts", sa.Integer, index=True))


def handle(n):
    t = table_for(n)
    stmt = sa.select(t.c.id, t.c.kind).where(t.c.ts > n)
    return str(stmt.compile(engine))


run(handle, 60)
