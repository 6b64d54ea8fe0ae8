"""Control: SQLAlchemy sessions opened and closed per request against an in-memory SQLite engine.

Each request opens ``Session(engine)`` in a ``with`` block and a transaction with ``session.begin()``, queries ORM
objects through a relationship, updates one, inserts a row and commits; the session closes at the end of the block
and its identity map, transaction and instance states go with it. A scoped_session used the right way
(``Session.remove()`` at teardown) runs alongside, and an event listener is registered once at start-up, not per
request. The engine's connection pool and SQLAlchemy's compiled-statement cache (an LRU keyed by statement shape) fill
during the warm-up round. Object counts must stay flat across the rounds: the right diagnosis is no leak.
"""
# verdict: no-leak

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session, declarative_base, relationship, scoped_session, sessionmaker

from rounds import run

Base = declarative_base()


class Author(Base):
    __tablename__ = "authors"
    id = sa.Column(sa.Integer, primary_key=True)
    name = sa.Column(sa.String(60), nullable=False)
    posts = relationship("Post", back_populates="author")


class Post(Base):
    __tablename__ = "posts"
    id = sa.Column(sa.Integer, primary_key=True)
    author_id = sa.Column(sa.ForeignKey("authors.id"), nullable=False)
    title = sa.Column(sa.String(120), nullable=False)
    views = sa.Column(sa.Integer, nullable=False, default=0)
    author = relationship("Author", back_populates="posts")


engine = sa.create_engine("sqlite://")
Base.metadata.create_all(engine)
with Session(engine) as s, s.begin():
    authors = [Author(name="author %d" % i) for i in range(30)]
    s.add_all(authors)
    s.flush()
    s.add_all([Post(author_id=authors[i % 30].id, title="post %d" % i) for i in range(300)])

statements = {"count": 0}


@event.listens_for(engine, "before_cursor_execute")
def count_statement(conn, cursor, statement, parameters, context, executemany):
    statements["count"] += 1


ScopedSession = scoped_session(sessionmaker(bind=engine))


def handle(n):
    with Session(engine) as session, session.begin():
        author = session.get(Author, 1 + n % 30)
        titles = [p.title for p in author.posts]
        post = session.scalars(sa.select(Post).where(Post.author_id == author.id).limit(1)).first()
        post.views += 1
        if n % 10 == 0:
            session.add(Post(author_id=author.id, title="reply %d" % n))
    scoped = ScopedSession()
    try:
        scoped.execute(sa.select(sa.func.count(Post.id))).scalar_one()
    finally:
        ScopedSession.remove()
    return len(titles)


run(handle, 100)
