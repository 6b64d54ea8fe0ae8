import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { SnapshotError } from "../src/common/errors.js";
import { loadSnapshot } from "../src/engine/load.js";
import { pyRepr } from "../src/engine/meliae.js";
import { EDGE_INDEX, EDGE_OPAQUE, EDGE_SUFFIX, NONE, ROOT_MODULE, ROOT_OTHER, type Snapshot } from "../src/engine/snapshot.js";
import { CLI, runPythonJson, tempDir } from "./helpers/python.js";

// A Python process dumps its own heap in meliae's format (gc.get_objects expanded through gc.get_referents and
// dict items), plus one made-up record that references an address not in the dump.
const DUMP_SCRIPT = `
import gc, json, os, sys
import json as json_module

class Account:
    def __init__(self, name):
        self.name = name

CACHE = {'user:42': Account('alice'), "it's": 1.5}
PAIR = [Account('bob'), 'second item']

def refs_of(o):
    if type(o) is dict:
        out = []
        for k, v in o.items():
            out += [id(k), id(v)]
        return out
    if type(o) in (list, tuple):
        return [id(x) for x in o]  # in order, as meliae writes them (tp_traverse of a list runs backwards)
    return [id(r) for r in gc.get_referents(o)]

def dump(path):
    seen = set()
    pending = gc.get_objects()
    bookkeeping = {id(seen), id(pending)}
    lines = 0
    references = 0
    with open(path, 'w') as out:
        while pending:
            o = pending.pop()
            if id(o) in seen or id(o) in bookkeeping:
                continue
            seen.add(id(o))
            record = {'address': id(o), 'type': type(o).__name__, 'size': sys.getsizeof(o)}
            if isinstance(o, (type(sys), type)) or callable(o) and hasattr(o, '__name__') and type(o).__name__ in ('function', 'builtin_function_or_method'):
                record['name'] = o.__name__
            if type(o) in (str, bytes, list, tuple, dict, set, frozenset):
                record['len'] = len(o)
            if type(o) is str:
                record['value'] = o[:100]
            elif type(o) is int and abs(o) < 2**53:
                record['value'] = o
            refs = refs_of(o)
            record['refs'] = refs
            references += len(refs)
            out.write(json.dumps(record) + '\\n')
            lines += 1
            pending.extend(gc.get_referents(o))
            if type(o) is dict:
                pending.extend(o.keys())
        out.write(json.dumps({'address': 1, 'type': 'list', 'size': 64, 'len': 1, 'refs': [3]}) + '\\n')
    return lines + 1, references + 1

path = os.path.join(sys.argv[1], 'heap.json')
objects, references = dump(path)
print(json.dumps({
    'path': path, 'objects': objects, 'references': references,
    'cache': id(CACHE), 'account': id(CACHE['user:42']), 'key': next(id(k) for k in CACHE if k == 'user:42'),
    'quoted_key_value': id(CACHE["it's"]), 'pair': id(PAIR), 'pair_items': [id(x) for x in PAIR],
    'json_module': id(json_module), 'main_module': id(sys.modules['__main__']),
}))
`;

interface Facts {
  path: string; objects: number; references: number; cache: number; account: number; key: number;
  quoted_key_value: number; pair: number; pair_items: number[]; json_module: number; main_module: number;
}

function edgesOf(snap: Snapshot, i: number) {
  const out = [];
  for (let e = snap.edgeStart[i]; e < snap.edgeStart[i + 1]; e++) {
    const kind = snap.edgeKind[e];
    out.push({ target: snap.address[snap.edgeTarget[e]], kind, label: kind === EDGE_INDEX ? String(snap.edgeLabel[e]) : snap.strings.get(snap.edgeLabel[e]) });
  }
  return out;
}

test("a meliae dump of a real Python heap imports with its objects, labelled edges and roots", async () => {
  const dir = tempDir();
  const facts = runPythonJson<Facts>(DUMP_SCRIPT, dir);
  const snap = await loadSnapshot(facts.path);
  const at = (address: number) => {
    const i = snap.address.indexOf(address);
    assert.ok(i >= 0, `${address} imported`);
    return i;
  };
  assert.equal(snap.format, "meliae");
  assert.equal(snap.objectCount, facts.objects);
  assert.equal(snap.bounds.size, 0, "meliae dumps record no bounds");
  const dropped = snap.meta.dropped_references as number;
  assert.ok(dropped >= 1, "the reference to address 3 is dropped");
  assert.equal(snap.edgeCount + dropped, facts.references);
  assert.match((snap.meta.warnings as string[])[0], /references to addresses not in the dump were dropped/);

  const cache = at(facts.cache);
  assert.equal(snap.types[snap.type[cache]], "dict");
  assert.equal(snap.length[cache], 2);
  const cacheEdges = edgesOf(snap, cache);
  assert.deepEqual(cacheEdges.find((e) => e.target === facts.account), { target: facts.account, kind: EDGE_SUFFIX, label: "['user:42']" });
  assert.deepEqual(cacheEdges.find((e) => e.target === facts.key), { target: facts.key, kind: EDGE_OPAQUE, label: "<dict key>" });
  assert.deepEqual(cacheEdges.find((e) => e.target === facts.quoted_key_value), { target: facts.quoted_key_value, kind: EDGE_SUFFIX, label: `["it's"]` });
  assert.equal(snap.types[snap.type[at(facts.account)]], "Account");

  const pairEdges = edgesOf(snap, at(facts.pair));
  assert.deepEqual(pairEdges.map((e) => [e.target, e.kind, e.label]), facts.pair_items.map((a, k) => [a, EDGE_INDEX, String(k)]));
  const itemValue = snap.name[at(facts.pair_items[1])];
  assert.equal(snap.strings.get(itemValue), "second item");

  // Roots: every module, and objects nothing references (such as the made-up record).
  const rootLabel = (address: number) => {
    const i = at(address);
    const r = snap.rootObject.indexOf(i);
    return r < 0 ? null : [snap.rootKind[r], snap.strings.get(snap.rootLabel[r])];
  };
  assert.deepEqual(rootLabel(facts.json_module), [ROOT_MODULE, "sys.modules['json']"]);
  assert.deepEqual(rootLabel(facts.main_module), [ROOT_MODULE, "sys.modules['__main__']"]);
  assert.deepEqual(rootLabel(1), [ROOT_OTHER, "<unreferenced 0x1>"]);
  assert.equal(rootLabel(facts.account), null, "a referenced object is no root");
  const modules = snap.types.indexOf("module");
  assert.equal(snap.type.filter((t) => t === modules).length, [...snap.rootKind].filter((k) => k === ROOT_MODULE).length);
  assert.equal(snap.length[at(facts.account)], NONE);
});

test("the CLI summarises a meliae dump", async () => {
  const dir = tempDir();
  const facts = runPythonJson<Facts>(DUMP_SCRIPT, dir);
  const result = spawnSync(process.execPath, [CLI, "summary", facts.path, "--json"], { encoding: "utf8" });
  assert.equal(result.status, 0, result.stderr);
  const summary = JSON.parse(result.stdout);
  assert.equal(summary.format, "meliae");
  assert.equal(summary.objects, facts.objects);
  assert.equal(summary.types.reduce((n: number, t: { count: number }) => n + t.count, 0), facts.objects);
  assert.match(result.stderr, /^leakbook: warning: .*dropped/);
});

test("labels quote dict keys as Python's repr() does", () => {
  const samples = ["plain", "it's", 'say "hi"', `both ' and "`, "tab\there", "new\nline", "back\\slash", "bell\x07", "\u00e9t\u00e9", "nbsp\u00a0", "zero\u200bwidth", "emoji \u{1f600}", "del\x7f", "c1\x85"];
  const dir = tempDir();
  const expected = runPythonJson<{ reprs: string[] }>(`
import json, sys
samples = json.loads(sys.stdin.readline()) if False else ${JSON.stringify(JSON.stringify(samples))}
print(json.dumps({"reprs": [repr(s) for s in json.loads(samples)]}))
`, dir);
  assert.deepEqual(samples.map(pyRepr), expected.reprs);
});

test("a damaged meliae dump is one line naming the line: negative or huge len, bad sizes and addresses, an address twice", async () => {
  const dir = tempDir();
  const facts = runPythonJson<Facts>(DUMP_SCRIPT, dir);
  const lines = readFileSync(facts.path, "utf8").split("\n");
  const at = lines.findIndex((line) => line.includes('"len": '));
  const record = JSON.parse(lines[at]);
  const damaged = (name: string, change: (r: Record<string, unknown>) => void, line = at) => {
    const copy = [...lines];
    const r = JSON.parse(lines[line]);
    change(r);
    copy[line] = JSON.stringify(r);
    const path = join(dir, `${name}.json`);
    writeFileSync(path, copy.join("\n"));
    return path;
  };
  const n = at + 1;
  const cases: [string, string, RegExp][] = [
    ["negative len (read as 4294967291 before)", damaged("negative-len", (r) => { r.len = -5; }), new RegExp(`line ${n} has len -5, expected a whole number$`)],
    ["fractional len", damaged("fraction-len", (r) => { r.len = 2.5; }), new RegExp(`line ${n} has len 2\\.5`)],
    ["huge len", damaged("huge-len", (r) => { r.len = 1e300; }), new RegExp(`line ${n} has len 1e\\+300`)],
    ["negative size", damaged("negative-size", (r) => { r.size = -64; }), new RegExp(`line ${n} has size -64, expected a whole number of bytes$`)],
    ["size as text", damaged("text-size", (r) => { r.size = "64"; }), new RegExp(`line ${n} has size "64"`)],
    ["address as text", damaged("text-address", (r) => { r.address = "0x10"; }), new RegExp(`line ${n} has address "0x10", expected a whole number$`)],
    ["references not addresses", damaged("refs", (r) => { r.refs = ["x"]; }), new RegExp(`line ${n} has refs that are not a list of addresses$`)],
    ["an address twice", damaged("twice", (r) => { r.address = record.address; }, at + 1),
      new RegExp(`address 0x${record.address.toString(16)} is in the dump twice$`)],
  ];
  for (const [what, path, expected] of cases) {
    await assert.rejects(loadSnapshot(path), (error: unknown) => {
      assert.ok(error instanceof SnapshotError, `${what}: ${error}`);
      assert.match(error.message, expected, what);
      assert.ok(error.message.startsWith(path), what);
      return true;
    }, what);
  }
  // A len above what the column holds saturates below NONE, as in lbsnap files.
  const big = await loadSnapshot(damaged("big-len", (r) => { r.len = 2 ** 40; }));
  assert.equal(big.length[big.address.indexOf(record.address)], NONE - 1);
});
