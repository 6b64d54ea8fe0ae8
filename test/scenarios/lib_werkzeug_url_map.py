"""A werkzeug routing Map gets a new Rule per request (a permanent route for every short link created).

Real-world bug class: url_map.add / app.add_url_rule at run time. The Map keeps every rule in its rule list, its
endpoint index and its matcher's state tree.
A right diagnosis names the Map (sys.modules['__main__'].url_map) and says to add rules once and route the
variety through rule variables.
"""
# verdict: leak
# kinds: library-leak|long-lived-large|growing-container
# holder: sys.modules['__main__'].url_map
# remedy: Add URL rules once
from werkzeug.routing import Map, Rule
from werkzeug.exceptions import NotFound
from rounds import run

url_map = Map([Rule("/", endpoint="index"), Rule("/items/<int:item_id>", endpoint="item")])


def handle(n):
    # bug: registers a permanent route for every short link created
    url_map.add(Rule("/s/%d/<path:rest>" % n, endpoint="short_%d" % n, defaults={"tenant": "t%d" % (n % 50)}))
    adapter = url_map.bind("example.invalid", "/")
    try:
        adapter.match("/items/%d" % (n % 300))
        adapter.match("/s/%d/x/y" % n)
    except NotFound:
        pass


run(handle, 60)
