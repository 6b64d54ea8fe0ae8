"""A shared jinja2 Environment gets a per-request currency filter registered under a new name each time.

Real-world bug class: env.filters / env.globals set per request. Each filter is a closure over the request's
context, kept by the Environment for the life of the process.
A right diagnosis names sys.modules['__main__'].env.filters and says to register filters once and pass the
per-request values as arguments or in the render context.
"""
# verdict: leak
# kinds: library-leak|closure-retention|growing-container
# holder: sys.modules['__main__'].env.filters
# remedy: Register filters
import jinja2
from rounds import run

env = jinja2.Environment(loader=jinja2.DictLoader({"inv.html": "{% for l in lines %}{{ l.name }} {{ l.price }}\n{% endfor %}"}))


def render(n):
    rate = 1.0 + (n % 100) / 1000.0
    symbol = ["EUR", "USD", "GBP"][n % 3]
    ctx = {"request_id": "r%06d" % n, "locale": "de_DE", "rate": rate}

    def money(value):
        return "%.2f %s (%s)" % (value * rate, symbol, ctx["request_id"])

    # bug: a new filter name per request, never removed
    env.filters["money_%d" % n] = money
    lines = [{"name": "item%d" % i, "price": i * 1.5} for i in range(5)]
    return env.get_template("inv.html").render(lines=lines)


run(render, 300)
