"""A plugin registry kept as a class attribute on a class that is never instantiated, fed by a classmethod.

Real-world bug class: class-level registries (`class Registry: items = {}`) used as process-wide caches with a
per-request key. Nothing instance-level holds the data; the class dict does, for the life of the process.
A right diagnosis names the class attribute (sys.modules['__main__'].Registry.items) as the growing holder and
says to bound it or key it by something that does not grow per request.
"""
# verdict: leak
# kinds: class-attribute|growing-container
# holder: Registry.items
import rounds


class Registry:
    items = {}

    @classmethod
    def register(cls, key, handler_spec):
        cls.items[key] = handler_spec


def handle(n):
    Registry.register("handler:%d" % n, {"module": "plugins.p%d" % (n % 13), "options": ["fast", "safe"]})


rounds.run(handle, 300)
