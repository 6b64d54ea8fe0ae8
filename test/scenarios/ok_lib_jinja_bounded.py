"""Control: a Jinja2 Environment with its default bounded template cache fed more template names than it holds.

The same CMS-style renderer as ``lib_jinja_unbounded_cache`` (a ``FunctionLoader`` building sources per tenant, page
and version) but with the default ``cache_size=400``: Jinja2's ``LRUCache`` evicts the least recently used compiled
template once 400 are cached, so although every request asks for a new name, the cache fills during the warm-up
round (450 names) and then only replaces entries; the evicted templates, their code objects and render functions
are freed. Object counts must stay flat across the rounds: the right diagnosis is no leak.
"""
# verdict: no-leak

import jinja2

from rounds import run

PAGE = """<h1>{{ title }}</h1>
{% for block in blocks %}<section id="b{{ loop.index }}">{{ block.heading }}: {{ block.text|e }}</section>
{% endfor %}<footer>tenant TENANT page PAGE version VERSION</footer>"""


def load_from_db(name):
    tenant, rest = name.split("/", 1)
    page, version = rest[len("page/"):-len(".html")].split("@v")
    return PAGE.replace("TENANT", tenant[len("tenant"):]).replace("PAGE", page).replace("VERSION", version)


env = jinja2.Environment(loader=jinja2.FunctionLoader(load_from_db), autoescape=True)
assert env.cache.capacity == 400


def render(n):
    name = "tenant%d/page/%d@v%d.html" % (n % 17, n, 1 + n % 3)
    return env.get_template(name).render(title="Page %d" % n,
                                         blocks=[{"heading": "h%d" % i, "text": "text <%d>" % i} for i in range(3)])


run(render, 450)
