"""Templates compiled with ``Environment.from_string`` and memoised in a dict keyed by the request's text.

Models per-customer message templates: a notification service lets each customer customise the greeting line, builds
the template source by splicing the greeting into a base layout, and "avoids recompiling" by keeping the compiled
``Template`` in a module dict keyed by the full source. ``from_string`` bypasses Jinja2's own bounded cache on purpose
(the docs say so), so the program's dict is the only cache, and its key is as varied as the customers' greetings:
every distinct source keeps a compiled module (code objects, render and block functions, its globals) for ever.

A right diagnosis names the program's dict ``sys.modules['__main__'].compiled`` as the growing container. The remedy:
one template with the greeting passed as a variable (``{{ greeting }}``), or a bounded LRU over the sources.
"""
# verdict: leak
# kinds: growing-container
# holder: sys.modules['__main__'].compiled

import jinja2

from rounds import run

env = jinja2.Environment(autoescape=True)
compiled = {}
LAYOUT = """GREETING
{% for item in items %}- {{ item.name }} x{{ item.qty }}{% if item.qty > 1 %} (bulk){% endif %}
{% endfor %}Total: {{ items|sum(attribute='qty') }} items. {{ footer }}"""


def notify(n):
    greeting = "Hello {{ name }}, thanks for order #%d from shop %d!" % (n, n % 13)
    source = LAYOUT.replace("GREETING", greeting)
    template = compiled.get(source)
    if template is None:
        template = compiled[source] = env.from_string(source)
    return template.render(name="customer %d" % n, footer="bye",
                           items=[{"name": "widget %d" % i, "qty": 1 + (n + i) % 3} for i in range(3)])


run(notify, 60)
