"""A module-level ``requests.Session`` that gains a response hook per call.

Models the API-client wrapper that wants per-call behaviour (check the status, record timing for this call) and does
it by appending a closure to the shared session's hooks, ``http.hooks["response"].append(check)``, inside the call
method, instead of passing ``hooks=`` to that one request. The session lives for the whole process (as requests
recommends, for connection pooling), so its ``hooks["response"]`` list keeps every closure and whatever it captured
(the call's parameters, its payload), and ``prepare_request`` merges all of them into every later request. No network
is used: the calls only build ``PreparedRequest`` objects with ``Session.prepare_request``, which is where the
session's hooks are merged in.

A right diagnosis names the hook list of the program's session, ``sys.modules['__main__'].http.hooks['response']``,
as the growing holder (a library object's list the program feeds). The remedy: pass per-call hooks to the one request
(``session.get(url, hooks={"response": check})``) or register one hook at start-up; never append to ``session.hooks``
per call.
"""
# verdict: leak
# kinds: library-leak|growing-container
# holder: hooks['response']

import requests

from rounds import run

http = requests.Session()
http.headers.update({"User-Agent": "billing-client/2.3", "Accept": "application/json"})


class BillingClient:
    base = "https://billing.invalid/api/v2"

    def __init__(self, session):
        self.session = session

    def build_charge(self, account, cents, memo):
        payload = {"account": account, "amount": cents, "currency": "EUR", "memo": memo}

        def check(response, *args, **kwargs):
            if response.status_code >= 400:
                raise RuntimeError("charge failed for %s: %r" % (account, payload))

        self.session.hooks["response"].append(check)  # the bug: per call, on the shared session
        request = requests.Request("POST", self.base + "/charges", json=payload, params={"idempotency": memo})
        return self.session.prepare_request(request)


client = BillingClient(http)


def charge(n):
    prepared = client.build_charge("acct-%05d" % (n % 3000), 100 + n % 900, "invoice-%d" % n)
    return prepared.url


run(charge, 100)
