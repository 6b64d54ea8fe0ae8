"""PyYAML constructors registered per loaded document, with a tag that is new every time.

Models a multi-tenant config loader: each tenant's YAML may reference secrets as ``!<tenant>.secret name``, so
``load_tenant_config`` calls ``yaml.add_constructor("!%s.secret" % tenant, resolve, Loader=yaml.SafeLoader)`` with a
closure over that tenant's vault before parsing. ``add_constructor`` is a classmethod that writes into the loader
*class*: the first call copies ``SafeLoader.yaml_constructors`` into the class's own dict and every later call adds a
key to it. Tenants (here: config revisions) keep coming, so the class-level dict keeps every tag and every closure
with the vault it captured, for the life of the process and for every other user of ``SafeLoader``.

A right diagnosis names the class-level registry ``yaml_constructors`` of ``SafeLoader`` (e.g.
``sys.modules['yaml'].SafeLoader.yaml_constructors``) as the growing holder, a library registry the program feeds.
The remedy: register one constructor for a fixed tag at import time (``!secret``) and pass the tenant through the
document or a loader subclass made once per tenant kind; or subclass ``SafeLoader`` per call and let the subclass go.
"""
# verdict: leak
# kinds: library-leak|growing-container|class-attribute
# holder: SafeLoader.yaml_constructors

import yaml

from rounds import run

DOC = """service: %(tenant)s
replicas: 3
database:
  host: db.%(tenant)s.internal
  password: !%(tenant)s.secret db_password
"""


def load_tenant_config(tenant, vault):
    def resolve(loader, node):
        return vault.get(loader.construct_scalar(node), "")

    yaml.add_constructor("!%s.secret" % tenant, resolve, Loader=yaml.SafeLoader)  # the bug: a new tag per call
    return yaml.safe_load(DOC % {"tenant": tenant})


def handle(n):
    tenant = "t%05d" % n  # a tenant id, or a config revision, new for nearly every load
    vault = {"db_password": "pw-%d" % n, "api_key": "key-%d" % n, "issued": "2024-01-%02d" % (1 + n % 28)}
    config = load_tenant_config(tenant, vault)
    assert config["database"]["password"] == "pw-%d" % n


run(handle, 100)
