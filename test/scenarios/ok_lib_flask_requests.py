"""Control: a Flask app serving many varied requests through the test client and keeping nothing.

A realistic app with blueprints, URL converters, JSON bodies, before/after/teardown hooks, ``flask.g``,
``after_this_request``, error handlers (a 404 and a handled 400 for a share of the requests), template rendering from
a ``DictLoader`` and a signal receiver connected once at import. Every request's state (the request and app contexts,
``g``, the response) is discarded by Flask at teardown; the counters it keeps are fixed-size. Werkzeug's routing and
Jinja2's template cache fill during the warm-up round and stay put. Object counts must stay flat across the rounds:
the right diagnosis is no leak.
"""
# verdict: no-leak

import flask
import jinja2

from rounds import run

app = flask.Flask(__name__)
app.jinja_loader = jinja2.DictLoader({
    "item.html": "<h1>{{ item.name }}</h1><ul>{% for t in item.tags %}<li>{{ t }}</li>{% endfor %}</ul>{{ g.viewer }}",
})
api = flask.Blueprint("api", __name__, url_prefix="/api")
stats = {"requests": 0, "errors": 0, "finished": 0}


@app.before_request
def open_request():
    flask.g.viewer = flask.request.args.get("viewer", "anonymous")
    stats["requests"] += 1


@app.teardown_request
def close_request(exc):
    flask.g.pop("viewer", None)


@app.errorhandler(404)
def not_found(err):
    stats["errors"] += 1
    return {"error": "not found"}, 404


def on_finished(sender, response, **extra):
    stats["finished"] += 1


flask.request_finished.connect(on_finished, app)


@app.route("/items/<int:item_id>")
def item_page(item_id):
    item = {"name": "item %d" % item_id, "tags": ["t%d" % (item_id % 5), "new"]}

    @flask.after_this_request
    def add_header(response):
        response.headers["X-Item"] = str(item_id)
        return response

    return flask.render_template("item.html", item=item)


@api.route("/orders", methods=["POST"])
def create_order():
    body = flask.request.get_json(silent=True)
    if not body or "lines" not in body:
        flask.abort(400)
    return {"ok": True, "lines": len(body["lines"])}, 201


app.register_blueprint(api)
client = app.test_client()


def request(n):
    kind = n % 4
    if kind == 0:
        client.get("/items/%d?viewer=u%d" % (n % 300, n % 17))
    elif kind == 1:
        client.post("/api/orders", json={"lines": [{"sku": "S%d" % n, "qty": 1}]})
    elif kind == 2:
        client.post("/api/orders", data="not json", content_type="text/plain")
    else:
        client.get("/missing/%d" % n)


run(request, 200)
