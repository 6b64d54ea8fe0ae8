"""A parser that warns about deprecated input with the offending value in the message text.

Real-world bug class: warnings.warn(f"... {value}") under the default filter. The "default" action shows each
distinct (message, category, line) once, and to remember what it showed it records every message text in the
calling module's __warningregistry__ dict. A unique text per call makes that registry grow for ever (the
program routes shown warnings to a quiet sink, as services that capture warnings into their own logs do).
A right diagnosis names the warnings registry (sys.modules['__main__'].__warningregistry__) as a library registry
the program feeds, and says to keep the message text constant (put the value in a log record) or to filter the
warning with an "ignore" / "once"-by-category rule.
"""
# verdict: leak
# kinds: library-leak|growing-container
# holder: __warningregistry__
import warnings

import rounds

SHOWN = []


def quiet_sink(message, category, filename, lineno, file=None, line=None):
    SHOWN.clear()  # the service only counts warnings; nothing is kept here
    SHOWN.append(category.__name__)


warnings.showwarning = quiet_sink
warnings.simplefilter("default")


def parse_record(n):
    fields = {"id": n, "date": "2024-01-%02d" % (n % 28 + 1), "amount": "%d.00" % n}
    if n % 2 == 0:
        warnings.warn("record %d uses the deprecated date format %s" % (n, fields["date"]), DeprecationWarning)
    return fields


rounds.run(parse_record, 600)
