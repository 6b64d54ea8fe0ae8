"""A request logger that appends to one ever-growing string.

`REQUEST_LOG.text` gets one line per request by string concatenation and is never rotated. The number of objects
stays flat (the old string is freed each time a longer one replaces it); only the total length of str grows,
so counting objects alone misses this leak.

Usage: python3 examples/strbuf/app.py [OUT_DIR [ROUNDS]]   (default: examples/strbuf/snapshots, 4 rounds)
"""
import gc
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "python"))
import leakbook  # noqa: E402  (the capture agent, found through the line above when not on PYTHONPATH)

ROUNDS = 4
REQUESTS_PER_ROUND = 400


class RequestLog:
    def __init__(self):
        self.text = ""
        self.lines = 0

    def record(self, line):
        self.text += line + "\n"  # the leak: the buffer is never flushed or trimmed
        self.lines += 1


REQUEST_LOG = RequestLog()


def handle_request(request_id):
    path = f"/api/items/{request_id % 97:03d}"
    headers = {"accept": "application/json", "x-request-id": f"{request_id:08d}"}
    status = 200 if request_id % 13 else 404
    REQUEST_LOG.record(f"{request_id:08d} GET {path} {status} accept={headers['accept']} took=0.004s")
    return status


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "snapshots")
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else ROUNDS
    os.makedirs(out, exist_ok=True)
    request_id = 0
    for round_no in range(-1, rounds):  # round -1 warms up: one-off start-up allocations precede the first snapshot
        for _ in range(REQUESTS_PER_ROUND):
            handle_request(request_id)
            request_id += 1
        gc.collect()
        if round_no < 0:
            # The agent's first capture imports a few modules of its own: take it in the warm-up and discard it.
            os.remove(leakbook.snapshot(os.path.join(out, "warm-up.lbsnap")))
        else:
            leakbook.snapshot(os.path.join(out, f"strbuf-{round_no}.lbsnap"))


if __name__ == "__main__":
    main()
