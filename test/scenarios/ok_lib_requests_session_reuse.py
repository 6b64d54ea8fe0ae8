"""Control: a shared requests.Session with fixed adapters and cookies overwritten under the same names per request.

The cookie jar and the adapters are what lib_requests_hooks and leak_cookiejar lay their growth at; here they stay
the same size, so nothing may be reported about them.
"""
# verdict: no-leak
import requests
from requests.adapters import HTTPAdapter
from rounds import run

http = requests.Session()
for t in range(20):
    http.mount("https://t%d.tenants.invalid/" % t, HTTPAdapter(max_retries=2))
    http.cookies.set("sid", "init", domain="t%d.tenants.invalid" % t, path="/")
counts = {"ok": 0}


def call(n):
    t = n % 20
    http.cookies.set("sid", "s%d" % n, domain="t%d.tenants.invalid" % t, path="/")  # overwrite same key
    req = requests.Request("POST", "https://t%d.tenants.invalid/api/orders" % t, json={"n": n, "lines": list(range(5))},
                           params={"page": n % 7}, headers={"X-Req": str(n)})
    prep = http.prepare_request(req)
    http.get_adapter(prep.url)
    counts["ok"] += 1


run(call, 400)
