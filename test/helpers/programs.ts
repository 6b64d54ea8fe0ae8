// Python programs the report and notebook tests capture: each leaks in one known way.

// One key of a defaultdict whose list of closures keeps growing: one container grows, its length stays 1, and step
// 6's culprit (the closures) competes with the standard library's own closures for the table's rows.
export const CLOSURES_PROGRAM = String.raw`
import collections, gc, json, os, sys
import leakbook

OUT = sys.argv[1]
BY_USER = collections.defaultdict(list)

def make_handler(payload):
    def handler():
        return len(payload)
    return handler

def work(r):
    for i in range(150):
        BY_USER["alice"].append(make_handler(bytearray(2000)))

warm = os.path.join(OUT, "warm-up.lbsnap")
leakbook.snapshot(warm)
os.remove(warm)
for r in range(4):
    work(r)
    gc.collect()
    leakbook.snapshot(os.path.join(OUT, "closures-%d.lbsnap" % r))
print(json.dumps({"dir": OUT}))
`;
