"""A Flask view installs a per-request before_request function into app.before_request_funcs[None].

Real-world bug class: request hooks registered at request time. The list grows, and every later request runs all
the functions in it, each a closure over its tenant's configuration.
A right diagnosis names sys.modules['__main__'].app.before_request_funcs and says to register hooks once at
start-up.
"""
# verdict: leak
# kinds: library-leak|closure-retention|growing-container
# holder: sys.modules['__main__'].app.before_request_funcs
# remedy: once at start-up
import flask
from rounds import run

app = flask.Flask(__name__)
seen = {"n": 0}


@app.route("/t/<int:tid>")
def tenant(tid):
    cfg = {"tenant": tid, "limits": list(range(6)), "name": "tenant-%d" % tid}

    def load_tenant():
        flask.g.tenant_cfg = cfg if flask.request.view_args.get("tid") == tid else None

    # bug: "install a hook for this tenant" on every request
    app.before_request_funcs.setdefault(None, []).append(load_tenant)
    seen["n"] += 1
    return "ok"


client = app.test_client()


def request(n):
    client.get("/t/%d" % n)


run(request, 60)
