"""A Jinja2 Environment with ``cache_size=-1`` fed a new template name per request.

Models a CMS-style renderer: templates live in a database, a ``FunctionLoader`` fetches the source by name, and the
environment was created with ``cache_size=-1`` ("never re-compile, we have few templates"), which makes Jinja2's
template cache a plain unbounded dict. The names, however, are per tenant and per page version
(``"tenant42/page/1017@v3.html"``), so nearly every request compiles a new ``Template`` (a compiled module code
object, its ``root_render_func`` and block functions, the globals it references) and parks it in ``env.cache`` under
the key ``(weakref to the loader, name)``. The default (``cache_size=400``) would have bounded it with an LRU.

A right diagnosis names the environment's template cache, ``sys.modules['__main__'].env.cache``, as the growing holder
(a library cache the program configured to be unbounded). The remedy: keep the default bounded ``cache_size`` (or a
number that fits), or key templates by something with few values and pass the per-page data as context instead.
"""
# verdict: leak
# kinds: library-leak|growing-container|unbounded-cache
# holder: env.cache

import jinja2

from rounds import run

PAGE = """<h1>{{ title }}</h1>
{% for block in blocks %}<section id="b{{ loop.index }}">{{ block.heading }}: {{ block.text|e }}</section>
{% endfor %}<footer>tenant TENANT page PAGE version VERSION</footer>"""


def load_from_db(name):
    tenant, rest = name.split("/", 1)
    page, version = rest[len("page/"):-len(".html")].split("@v")
    return PAGE.replace("TENANT", tenant[len("tenant"):]).replace("PAGE", page).replace("VERSION", version)


env = jinja2.Environment(loader=jinja2.FunctionLoader(load_from_db), cache_size=-1, autoescape=True)


def render(n):
    name = "tenant%d/page/%d@v%d.html" % (n % 17, n, 1 + n % 3)
    return env.get_template(name).render(title="Page %d" % n,
                                         blocks=[{"heading": "h%d" % i, "text": "text <%d>" % i} for i in range(3)])


run(render, 60)
