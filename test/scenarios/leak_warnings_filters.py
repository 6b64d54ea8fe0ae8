"""A client that silences a deprecation warning for the specific endpoint it is calling, per request, with
warnings.filterwarnings(..., message=<endpoint-specific regex>). Every call inserts a new filter tuple (with a
compiled regex) at the front of the process-wide warnings.filters list.

True holder: warnings.filters  (sys.modules['warnings'].filters)
"""
# verdict: leak
# kinds: library-leak|growing-container
# holder: '].filters
# remedy: catch_warnings
import warnings

import rounds


def call_endpoint(n):
    ep = "/api/v1/orders/%d/items" % n
    warnings.filterwarnings("ignore", message=r"endpoint %s is deprecated.*" % ep, category=DeprecationWarning)
    warnings.warn("endpoint %s is deprecated, use v2" % ep, DeprecationWarning)
    return {"endpoint": ep, "items": [n, n + 1]}


rounds.run(call_endpoint, 400)
