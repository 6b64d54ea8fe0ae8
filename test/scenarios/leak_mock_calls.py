"""A metrics client replaced by unittest.mock.Mock at start-up (a stub left in from a test setup) and called per request.

Real-world bug class: a Mock living in a long-running process. Every call is recorded: the mock's
call_args_list and mock_calls, and the parent's mock_calls and method_calls for a child attribute, keep each
call's arguments for ever.
A right diagnosis names the mock's call records as the holder (a path under sys.modules['__main__'].metrics, such
as .metrics._mock_mock_calls or .metrics._mock_children['increment']._mock_call_args_list, not the mock's instance
dict found by id), a library structure the program feeds, and says to replace the stub with a real no-op object
or call reset_mock().
"""
# verdict: leak
# kinds: library-leak|growing-container
# holder: ].metrics.
from unittest import mock

import rounds

metrics = mock.Mock(name="metrics")  # "disabled" metrics: the stub from the test setup


def handle(n):
    tags = {"route": "/orders/%d" % (n % 40), "status": 200 if n % 9 else 500, "request": "req-%06d" % n}
    metrics.increment("http.requests", tags=tags)
    return tags["status"]


rounds.run(handle, 300)
