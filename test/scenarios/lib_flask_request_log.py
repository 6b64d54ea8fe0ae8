"""A Flask app that appends a record of every request to a module-level list.

Models the debugging aid that ships to production: a ``@app.after_request`` hook keeps "the recent requests" for a
``/debug/recent`` page in a module-level list, appending the path, the query arguments (``request.args.to_dict()``),
a copy of the headers and the values the view left in ``flask.g``, and nothing ever trims the list. Each entry is
small, but a busy worker serves millions of requests. The requests here go through ``app.test_client()``, which
drives the full WSGI stack (request and app contexts, the response, teardown) without any socket.

A right diagnosis names the program's own list ``sys.modules['__main__'].recent_requests`` as the growing container.
The remedy: ``collections.deque(maxlen=200)`` for "recent" records, or send them to logging instead of keeping them.
"""
# verdict: leak
# kinds: growing-container
# holder: sys.modules['__main__'].recent_requests

import flask

from rounds import run

app = flask.Flask(__name__)
recent_requests = []


@app.route("/items/<int:item_id>")
def show_item(item_id):
    flask.g.item_id = item_id
    flask.g.viewer = flask.request.args.get("viewer", "anonymous")
    return flask.jsonify(id=item_id, name="item %d" % item_id, tags=["a", "b"])


@app.after_request
def remember(response):
    recent_requests.append({
        "path": flask.request.path,
        "args": flask.request.args.to_dict(),
        "headers": dict(flask.request.headers),
        "g": {"item_id": flask.g.get("item_id"), "viewer": flask.g.get("viewer")},
        "status": response.status_code,
    })
    return response


client = app.test_client()


def request(n):
    client.get("/items/%d?viewer=user%d&page=%d" % (n % 500, n % 37, n % 9), headers={"X-Request-Id": "r%d" % n})


run(request, 120)
