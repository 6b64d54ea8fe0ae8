"""A pre-fork server: a parent forks workers and hands each one requests over a pipe (the fleet example, and the
fleet tests' fleet of real processes).

Every worker runs the same handler. It keeps one Session per session id in a module-level dict, the shared holder
`sys.modules['__main__']._sessions`. The leaking workers (--leaky, by default 1 and 3 of workers 0 to 3) get a new
session id with every request (their clients send no cookie), so their dict grows without end; the others see the
same twenty sessions again and again, so theirs stays at twenty entries. After each round each worker takes one
snapshot with the agent (full snapshots, or census ones with --census; the warm-up round's is deleted) into
OUT/<host>/<pid>/ (one folder per host and process), or into OUT itself with --flat.

Usage: python3 app.py OUT [--workers N] [--leaky I,J] [--census] [--rounds N] [--requests N] [--flat]
Prints {"workers": [{"pid", "leaks", "files"}], "holder": "...", "sessions": {"leaking", "steady"}} as JSON on stdout.
"""
import argparse
import gc
import json
import os
import sys

import leakbook

STEADY_SESSIONS = 20


class Session(object):
    def __init__(self, sid):
        self.sid = sid
        self.history = []
        self.profile = {"sid": sid, "theme": "dark", "locale": "en"}


_sessions = {}


def handle(sid, path):
    session = _sessions.get(sid)
    if session is None:
        session = _sessions[sid] = Session(sid)
    session.history = session.history[-4:] + [path]
    return len(session.history)


def worker(index, leaks, requests, replies, target, census):
    """Reads commands from the parent: how many requests to serve and whether to keep the snapshot taken after them, or null to stop."""
    served = 0
    files = []
    with os.fdopen(requests, "r") as commands, os.fdopen(replies, "w") as answers:
        for line in commands:
            command = json.loads(line)
            if command is None:
                break
            for _ in range(command["requests"]):
                served += 1
                sid = "sid-%d-%d" % (index, served) if leaks else "sid-%d" % (served % STEADY_SESSIONS)
                handle(sid, "/items/%d" % served)
            gc.collect()
            path = leakbook.snapshot(target + os.sep, census=census)
            if command["keep"]:
                files.append(path)
            else:  # the warm-up capture: it imports what the agent needs, which is no growth of the program's
                os.remove(path)
            answers.write(json.dumps({"files": files}) + "\n")
            answers.flush()
    os._exit(0)  # the parent's atexit handlers and buffers are not the worker's to run


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--leaky", default="1,3", help="the workers (0-based) whose clients send no cookie")
    parser.add_argument("--census", action="store_true")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--requests", type=int, default=150)
    parser.add_argument("--flat", action="store_true", help="write every worker's snapshots into OUT itself")
    args = parser.parse_args()
    leaky = {int(i) for i in args.leaky.split(",") if i}
    children = []
    for index in range(args.workers):
        to_child, from_parent = os.pipe()
        to_parent, from_child = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(from_parent)
            os.close(to_parent)
            nested = os.path.join(args.out, os.uname().nodename, str(os.getpid()))
            worker(index, index in leaky, to_child, from_child, args.out if args.flat else nested, args.census)
        os.close(to_child)
        os.close(from_child)
        children.append({"pid": pid, "index": index, "send": os.fdopen(from_parent, "w"),
                         "receive": os.fdopen(to_parent, "r")})
    # Round 0 warms up (the first capture imports what the agent needs); rounds 1.. are the series.
    last = {}
    for round in range(args.rounds + 1):
        for child in children:
            child["send"].write(json.dumps({"requests": args.requests, "keep": round > 0}) + "\n")
            child["send"].flush()
        for child in children:
            last[child["pid"]] = json.loads(child["receive"].readline())["files"]
    for child in children:
        child["send"].write("null\n")
        child["send"].close()
        os.waitpid(child["pid"], 0)
    print(json.dumps({
        "workers": [{"pid": c["pid"], "leaks": c["index"] in leaky, "files": last[c["pid"]]} for c in children],
        "holder": "sys.modules['__main__']._sessions",
        # Sessions in each worker's dict at the end: every request's own in a leaking worker (warm-up included).
        "sessions": {"leaking": args.requests * (args.rounds + 1), "steady": STEADY_SESSIONS},
    }))


if __name__ == "__main__":
    main()
