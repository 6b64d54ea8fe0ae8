"""Two obscure holders: listeners registered as bound methods, and saved exceptions with their tracebacks.

Each opened Widget subscribes `widget.on_event` to the module-level list `_listeners` and is never unsubscribed:
the bound method's `__self__` keeps the widget (and its 4 KiB buffer) alive after the widget is closed. Each failed
batch appends its exception to `_failed_batches` for a later report: the exception's `__traceback__` keeps the
frame of `import_batch` alive, and with it the frame's local `rows`, a list of 100 parsed rows.

Usage: python3 examples/holder/app.py [OUT_DIR [ROUNDS]]   (default: examples/holder/snapshots, 4 rounds)
"""
import gc
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "python"))
import leakbook  # noqa: E402  (the capture agent, found through the line above when not on PYTHONPATH)

ROUNDS = 4
WIDGETS_PER_ROUND = 20
BATCHES_PER_ROUND = 8
ROWS_PER_BATCH = 100

# Event bus: callbacks are appended on subscribe and never removed.
_listeners = []
# Errors kept "for the end-of-day report", exception objects and all.
_failed_batches = []


class Widget:
    def __init__(self, widget_no):
        self.title = f"widget {widget_no}"
        self.pixels = bytearray(4096)
        self.events_seen = 0
        self.closed = False

    def on_event(self, event):
        self.events_seen += 1

    def open(self):
        _listeners.append(self.on_event)  # the bound method holds self

    def close(self):
        self.closed = True  # but forgets to unsubscribe on_event


class BatchError(Exception):
    pass


def import_batch(batch_no):
    rows = [(batch_no, row_no, f"sku-{batch_no:04d}-{row_no:03d}") for row_no in range(ROWS_PER_BATCH)]
    if batch_no % 2 == 0:
        raise BatchError(f"batch {batch_no}: {len(rows)} rows failed validation")
    return len(rows)


def open_widgets(first_no, count):
    for widget_no in range(first_no, first_no + count):
        widget = Widget(widget_no)
        widget.open()
        for listener in _listeners[-3:]:
            listener("refresh")
        widget.close()


def import_batches(first_no, count):
    for batch_no in range(first_no, first_no + count):
        try:
            import_batch(batch_no)
        except BatchError as error:
            _failed_batches.append(error)  # keeps error.__traceback__ and the frames it points at


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "snapshots")
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else ROUNDS
    os.makedirs(out, exist_ok=True)
    for round_no in range(-1, rounds):  # round -1 warms up: one-off start-up allocations precede the first snapshot
        open_widgets((round_no + 1) * WIDGETS_PER_ROUND, WIDGETS_PER_ROUND)
        import_batches((round_no + 1) * BATCHES_PER_ROUND * 2, BATCHES_PER_ROUND * 2)
        gc.collect()
        if round_no < 0:
            # The agent's first capture imports a few modules of its own: take it in the warm-up and discard it.
            os.remove(leakbook.snapshot(os.path.join(out, "warm-up.lbsnap")))
        else:
            leakbook.snapshot(os.path.join(out, f"holder-{round_no}.lbsnap"))


if __name__ == "__main__":
    main()
