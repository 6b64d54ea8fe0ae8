"""A home-made Flask extension whose per-request bookkeeping on app.extensions is never cleaned up.

Models the usual shape of a Flask extension (``init_app`` stores the extension object in ``app.extensions["timer"]``)
with a bookkeeping bug: ``before_request`` records an in-flight entry keyed by ``request.path`` plus the request id,
and ``teardown_request`` tries to delete it with a key built from ``request.full_path`` (which carries the query
string), so the ``pop(key, None)`` silently misses for every request that has arguments. The extension object lives as
long as the app, so its ``inflight`` dict keeps one entry per request, each with the request's environ-derived data.

A right diagnosis names the dict on the extension object reached through the app,
``sys.modules['__main__'].app.extensions['timer'].inflight``, as the growing holder. The remedy: build the key once and
keep it in ``flask.g`` (``g.timer_key``) so teardown removes exactly what before_request added, or keep the
per-request state in ``flask.g`` itself, which Flask discards with the app context.
"""
# verdict: leak
# kinds: library-leak|growing-container
# holder: .extensions['timer'].inflight

import time

import flask

from rounds import run


class RequestTimer:
    def __init__(self, app=None):
        self.inflight = {}
        self.slow = 0
        if app is not None:
            self.init_app(app)

    def init_app(self, app):
        app.extensions["timer"] = self
        app.before_request(self._start)
        app.teardown_request(self._finish)

    def _start(self):
        key = "%s#%s" % (flask.request.path, flask.request.headers.get("X-Request-Id"))
        self.inflight[key] = {"started": time.perf_counter(), "remote": flask.request.remote_addr,
                              "agent": flask.request.user_agent.string, "args": flask.request.args.to_dict()}

    def _finish(self, exc):
        key = "%s#%s" % (flask.request.full_path, flask.request.headers.get("X-Request-Id"))  # the bug
        entry = self.inflight.pop(key, None)
        if entry is not None and time.perf_counter() - entry["started"] > 1.0:
            self.slow += 1


app = flask.Flask(__name__)
RequestTimer(app)


@app.route("/search")
def search():
    q = flask.request.args.get("q", "")
    return {"q": q, "hits": [q + str(i) for i in range(3)]}


client = app.test_client()


def request(n):
    client.get("/search?q=term%d&lang=en" % n, headers={"X-Request-Id": "r%06d" % n, "User-Agent": "bench/%d" % n})


run(request, 120)
