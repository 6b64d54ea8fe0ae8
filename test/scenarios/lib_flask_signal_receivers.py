"""A Flask view that connects a strong receiver to ``flask.request_finished`` on every request.

Models a pattern from Flask and blinker issue threads: a view wants "run this after the response is sent" and connects
a closure to the ``request_finished`` signal inside the view. With blinker's default ``weak=True`` the closure vanished
at once and never ran, so the developer "fixed" it with ``weak=False``. Now the process-wide signal keeps every
closure (and the request data each one captured) in ``request_finished.receivers``, blinker's dict of receiver id to
receiver, with its ``_by_receiver``/``_by_sender`` indexes growing alongside; every later request also calls all the
old receivers.

A right diagnosis names the receivers dict of Flask's signal, e.g. ``sys.modules['flask'].request_finished.receivers``
(a library registry the program feeds), as the growing holder. The remedy: ``flask.after_this_request`` for per-request
work, or connect one module-level receiver at import time and read the request's data from ``flask.g``; a receiver
connected with ``weak=False`` needs its ``disconnect``.
"""
# verdict: leak
# kinds: library-leak|growing-container
# holder: request_finished.receivers

import flask

from rounds import run

app = flask.Flask(__name__)
sent = {"count": 0}


@app.route("/orders/<int:order_id>", methods=["POST"])
def place_order(order_id):
    order = {"id": order_id, "lines": flask.request.get_json()["lines"], "customer": flask.request.args.get("c")}

    def notify_warehouse(sender, response, **extra):
        # meant to run once, after this request's response
        if response.status_code == 200 and order["lines"]:
            sent["count"] += 1

    flask.request_finished.connect(notify_warehouse, app, weak=False)  # the bug: never disconnected
    return {"ok": True, "id": order_id}


client = app.test_client()


def request(n):
    client.post("/orders/%d?c=cust%d" % (n, n % 41), json={"lines": [{"sku": "S%d" % (n % 70), "qty": 1 + n % 3}]})


run(request, 80)
