import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { constants } from "node:buffer";
import { copyFileSync, existsSync, mkdirSync, readFileSync, truncateSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { synthesize, writeLbsnap } from "../bench/synth.js";
import { agentAvailable, CLI, REPO, runPythonJson, startPython, tempDir } from "./helpers/python.js";
import { damagedVariants } from "./helpers/damage.js";
import { captureProcesses, copyAsReusedPid, type CapturedProcess } from "./helpers/processes.js";

function leakbook(...args: string[]) {
  const result = spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8", timeout: 60_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Exit code 2, nothing on stdout, exactly one stderr line starting "leakbook: ", no stack trace. */
function assertCleanFailure(result: ReturnType<typeof leakbook>, expected: RegExp, what: string): void {
  assert.equal(result.status, 2, `${what}: exit code (stderr: ${result.stderr})`);
  assert.equal(result.stdout, "", what);
  const lines = result.stderr.trimEnd().split("\n");
  assert.equal(lines.length, 1, `${what}: one line, got ${JSON.stringify(result.stderr)}`);
  assert.match(lines[0], /^leakbook: /, what);
  assert.match(lines[0], expected, what);
  assert.doesNotMatch(result.stderr, /\n\s+at |Error:/, what);
}

function syntheticFile(dir: string, name = "synthetic.lbsnap", objects = 5_000, meta?: Record<string, unknown>): string {
  const path = join(dir, name);
  writeLbsnap(path, { ...synthesize(objects, objects * 2.5, objects), meta });
  return path;
}

const CAPTURE_SCRIPT = `
import json, os, sys
import leakbook
DATA = {'key': list(range(100))}
path = os.path.join(sys.argv[1], 'real.lbsnap')
leakbook.snapshot(path)
print(json.dumps({'path': path, 'list': id(DATA['key'])}))
`;

test("diagnose DIR reads a snapshot renamed without its extension, and says so once", () => {
  const dir = tempDir();
  const source = join(REPO, "examples", "cache", "snapshots");
  for (const name of ["cache-0.lbsnap", "cache-1.lbsnap", "cache-2.lbsnap", "cache-3.lbsnap"]) {
    copyFileSync(join(source, name), join(dir, name === "cache-3.lbsnap" ? "cache-3" : name));
  }
  const renamed = leakbook("diagnose", dir, "--json");
  const original = leakbook("diagnose", source, "--json");
  assert.equal(renamed.status, original.status, renamed.stderr);
  assert.equal(renamed.stderr, `leakbook: ${join(dir, "cache-3")} has no .lbsnap extension; read as a snapshot\n`);
  assert.equal(JSON.parse(renamed.stdout).verdict, "leak");
  assert.deepEqual(JSON.parse(renamed.stdout).findings.length, JSON.parse(original.stdout).findings.length);
});

test("the bin runs by itself, as `npx leakbook` runs it (executable, with its shebang)", () => {
  const result = spawnSync(CLI, ["--help"], { encoding: "utf8", timeout: 60_000 });
  assert.equal(result.error, undefined, `${CLI}: ${result.error?.message}`);
  assert.equal(result.status, 0, result.stderr);
  assert.match(result.stdout, /diagnose/);
});

test("--help describes the program and each command", () => {
  const program = leakbook("--help");
  assert.equal(program.status, 0);
  assert.match(program.stdout, /summary/);
  assert.match(program.stdout, /paths/);
  assert.match(program.stdout, /\nExit status: 0 fine, 1 a leak \(check only\), 2 bad input or usage [^]*, 3 an internal error\.\n$/);
  for (const command of ["summary", "paths"]) {
    const help = leakbook(command, "--help");
    assert.equal(help.status, 0);
    assert.match(help.stdout, new RegExp(`Usage: leakbook ${command} FILE`));
    assert.match(help.stdout, /--json/);
  }
  assert.match(leakbook("paths", "--help").stdout, /--type TYPE[\s\S]*--top N/);
  for (const command of ["diagnose", "check", "report"]) assert.match(leakbook(command, "--help").stdout, /\[--pid PID\][\s\S]*--pid PID  /, command);
});

test("bad files fail with one line and exit code 2", () => {
  const dir = tempDir();
  const sources = [syntheticFile(dir)];
  if (agentAvailable()) sources.push(runPythonJson<{ path: string }>(CAPTURE_SCRIPT, dir).path);
  for (const source of sources) {
    for (const [name, [bytes, expected]] of Object.entries(damagedVariants(readFileSync(source)))) {
      const path = join(dir, `${name.replace(/ /g, "-")}.lbsnap`);
      writeFileSync(path, bytes);
      for (const command of [["summary", path], ["paths", path, "0x10"]]) {
        assertCleanFailure(leakbook(...command), new RegExp(`${path}: .*${expected}`), `${name} of ${source} (${command[0]})`);
      }
    }
  }
  assertCleanFailure(leakbook("summary", join(dir, "missing.lbsnap")), /missing\.lbsnap: no such file/, "missing file");
  // Past the longest array Node makes (a sparse file: no disk is used).
  const huge = join(dir, "huge.lbsnap");
  writeFileSync(huge, readFileSync(sources[0]).subarray(0, 64));
  truncateSync(huge, constants.MAX_LENGTH + 2 ** 30);
  assertCleanFailure(leakbook("summary", huge), /huge\.lbsnap: too large to load \(5\.0 GiB; at most 4\.0 GiB\)/, "huge file");
  const empty = join(dir, "empty-dir");
  mkdirSync(empty);
  assertCleanFailure(leakbook("summary", empty), /empty directory/, "empty directory");
  assertCleanFailure(leakbook("paths", empty, "1"), /empty directory/, "empty directory (paths)");
});

test("bad arguments fail with one line and exit code 2", () => {
  const dir = tempDir();
  const file = syntheticFile(dir);
  assertCleanFailure(leakbook("frobnicate"), /unknown command 'frobnicate'/, "unknown command");
  assertCleanFailure(leakbook("summary"), /missing FILE/, "no file");
  assertCleanFailure(leakbook("summary", file, "--colour"), /--colour/, "unknown option");
  assertCleanFailure(leakbook("summary", file, "extra"), /unexpected argument 'extra'/, "extra argument");
  assertCleanFailure(leakbook("paths", file), /missing ADDRESS/, "no address");
  assertCleanFailure(leakbook("paths", file, "0xZZ"), /bad ADDRESS '0xZZ'/, "bad address");
  assertCleanFailure(leakbook("paths", file, "0x10", "--k", "0"), /bad --k '0'/, "bad k");
  assertCleanFailure(leakbook("paths", file, "0x10"), /no object at address 0x10/, "unknown address");
});

test("summary --json reports counts, types, roots, memory, cycles and timings", () => {
  const dir = tempDir();
  const columns = synthesize(30_000, 75_000, 11);
  const file = join(dir, "s.lbsnap");
  writeLbsnap(file, columns);
  const result = leakbook("summary", file, "--json");
  assert.equal(result.status, 0, result.stderr);
  const summary = JSON.parse(result.stdout);
  assert.equal(summary.objects, 30_000);
  assert.equal(summary.edges, 75_000);
  assert.equal(summary.roots.count, columns.rootObject.length);
  const countOf = (type: string) => summary.types.find((t: { type: string }) => t.type === type)?.count ?? 0;
  for (const [t, name] of columns.types.entries()) assert.equal(countOf(name), columns.type.filter((x) => x === t).length, name);
  const shallow = summary.types.reduce((sum: number, t: { shallow: number }) => sum + t.shallow, 0);
  assert.equal(shallow, columns.size.reduce((a, b) => a + b, 0));
  assert.equal(summary.memory.shallow_total, shallow);
  assert.equal(summary.unreachable.count, 0, "every synthetic object hangs off a module");
  assert.ok(Array.isArray(summary.cycles), "cycles");
  for (const phase of ["load", "graph", "dominators", "cycles", "total"]) assert.equal(typeof summary.timings[phase], "number", phase);

  const text = leakbook("summary", file);
  assert.equal(text.status, 0);
  assert.match(text.stdout, /objects\s+30,000/);
  assert.match(text.stdout, /MiB|KiB/);
  assert.match(text.stdout, /Largest cycles/);
});

const CYCLES_SCRIPT = `
import json, os, sys
import leakbook
class Node:
    def __init__(self, parent=None):
        self.parent = parent
        self.children = []
        if parent is not None:
            parent.children.append(self)
def tree(size):
    root = Node()
    for _ in range(size - 1):
        Node(root)
    return root
KEEP = [tree(30), tree(5)]
path = os.path.join(sys.argv[1], 'cycles.lbsnap')
leakbook.snapshot(path)
print(json.dumps({'path': path}))
`;

test("summary lists the program's cycles with the path that holds each, not the modules' own web", { skip: !agentAvailable() }, () => {
  const dir = tempDir();
  const { path } = runPythonJson<{ path: string }>(CYCLES_SCRIPT, dir);
  const result = leakbook("summary", path, "--json");
  assert.equal(result.status, 0, result.stderr);
  const trees = JSON.parse(result.stdout).cycles.filter((c: { types: string }) => c.types.includes("__main__.Node"));
  // A flat tree of n nodes is one cycle: the n nodes and the root's children list (the leaves' lists point nowhere).
  assert.deepEqual(trees.map((c: { members: number; path: string }) => [c.members, c.path]), [
    [31, "sys.modules['__main__'].KEEP[0]"],
    [6, "sys.modules['__main__'].KEEP[1]"],
  ]);
  const text = leakbook("summary", path);
  assert.match(text.stdout, /31 objects, .* retained: __main__\.Node×30, list×1\n\s+held by sys\.modules\['__main__'\]\.KEEP\[0\]/);
});

test("a directory stands for its latest snapshot", () => {
  const dir = tempDir();
  const now = Date.now() / 1000;
  syntheticFile(dir, "a-newest.lbsnap", 3_000, { time_unix: now, sequence: 2 });
  syntheticFile(dir, "b-oldest.lbsnap", 4_000, { time_unix: now - 100, sequence: 1 });
  const summary = JSON.parse(leakbook("summary", dir, "--json").stdout);
  assert.equal(summary.file, join(dir, "a-newest.lbsnap"));
  assert.equal(summary.objects, 3_000);
});

test("paths --json gives expressions that start at a root", () => {
  const dir = tempDir();
  const columns = synthesize(5_000, 12_000, 5);
  const file = join(dir, "s.lbsnap");
  writeLbsnap(file, columns);
  const object = 4_321;
  const address = columns.address[object];
  for (const spelled of [String(address), "0x" + address.toString(16)]) {
    const result = leakbook("paths", file, spelled, "--json", "--k", "2");
    assert.equal(result.status, 0, result.stderr);
    const { paths } = JSON.parse(result.stdout);
    assert.ok(paths.length >= 1 && paths.length <= 2);
    for (const path of paths) {
      assert.match(path.expr, /^sys\.modules\['app\.module\d+'\]/);
      assert.equal(path.steps[path.steps.length - 1].address, address);
      assert.equal(path.expr.startsWith(path.steps[0].label), true);
    }
  }
});

const GARBAGE_SCRIPT = `
import gc, json, os, sys
import leakbook
gc.disable()
loop = ['only a cycle keeps me']
loop.append(loop)
address = id(loop)
del loop
KEPT = ['a module global keeps me']
path = os.path.join(sys.argv[1], 'garbage.lbsnap')
leakbook.snapshot(path)
print(json.dumps({'path': path, 'address': address, 'kept': id(KEPT)}))
`;

test("paths says when an object is unreachable from every root (garbage the collector has not freed yet)", { skip: !agentAvailable() }, () => {
  const dir = tempDir();
  const { path, address, kept } = runPythonJson<{ path: string; address: number; kept: number }>(GARBAGE_SCRIPT, dir);
  const result = leakbook("paths", path, String(address));
  assert.equal(result.status, 0, result.stderr);
  assert.match(result.stdout.split("\n")[0], /^builtins\.list at 0x[0-9a-f]+: 1 shortest retention path \(unreachable from every root\)$/);
  const reachable = leakbook("paths", path, String(kept));
  assert.equal(reachable.status, 0, reachable.stderr);
  assert.match(reachable.stdout, /^builtins\.list at 0x[0-9a-f]+: \d shortest retention paths?\n\n#1  sys\.modules\['__main__'\]\.KEPT\n/);
});

// A live process builds objects reachable in different ways, captures itself and waits; the CLI's expressions
// are sent back and evaluated in that very process, which reports whether each gives the same object.
const LIVE_SCRIPT = `
import gc, json, os, sys, threading
import leakbook

class Thing:
    pass

class Registry:
    pass

class Slotted:
    __slots__ = ('payload',)

CACHE = {'user:42': Thing()}
Registry.current = Thing()
HOLDER = Slotted()
HOLDER.payload = Thing()

def make_closure():
    captured = Thing()
    def read():
        return captured
    return read

READER = make_closure()

ready = threading.Event()
release = threading.Event()
thread_local_id = []

def worker():
    local_thing = Thing()
    thread_local_id.append(id(local_thing))
    ready.set()
    release.wait()

thread = threading.Thread(target=worker, name='worker', daemon=True)
thread.start()
ready.wait()

ids = {
    'dict value': id(CACHE['user:42']),
    'class attribute': id(Registry.current),
    'slot': id(HOLDER.payload),
    'closure cell': id(READER.__closure__[0].cell_contents),
    'thread local': thread_local_id[0],
}

def capture():
    path = os.path.join(sys.argv[1], 'live.lbsnap')
    leakbook.snapshot(path)
    return path

path = capture()
print(json.dumps({'path': path, 'ids': ids}), flush=True)
exprs = json.loads(sys.stdin.readline())
results = {}
for name, expr in exprs.items():
    try:
        results[name] = id(eval(expr, {'sys': sys, 'gc': gc})) == ids[name]
    except Exception as error:
        results[name] = repr(error)
print(json.dumps(results), flush=True)
release.set()
thread.join()
`;

test("paths expressions evaluate to the very object in the live process", { skip: !agentAvailable() && "python/leakbook.py not present", timeout: 180_000 }, async () => {
  const dir = tempDir();
  const live = startPython(LIVE_SCRIPT, dir);
  try {
    const { path, ids } = await live.nextMessage<{ path: string; ids: Record<string, number> }>();
    const exprs: Record<string, string> = {};
    for (const [name, address] of Object.entries(ids)) {
      const result = leakbook("paths", path, String(address), "--json");
      assert.equal(result.status, 0, `${name}: ${result.stderr}`);
      const { paths } = JSON.parse(result.stdout);
      assert.ok(paths.length > 0, `${name} has a path`);
      exprs[name] = paths[0].expr;
    }
    live.send(exprs);
    const results = await live.nextMessage<Record<string, boolean | string>>();
    for (const name of Object.keys(ids)) assert.equal(results[name], true, `${name}: ${exprs[name]} -> ${results[name]}`);
  } finally {
    const code = await live.finish();
    assert.equal(code, 0, live.stderr());
  }
});

// Two real processes (the rounds program of helpers/processes.ts) writing into one folder, captured once for the
// tests below; the second process run owns the folder's newest snapshot.
let mixed: { dir: string; a: CapturedProcess; b: CapturedProcess } | undefined;
function mixedFolder() {
  if (!mixed) {
    const dir = tempDir();
    const [a, b] = captureProcesses(dir, 2);
    mixed = { dir, a, b };
  }
  return mixed;
}

const noAgent = !agentAvailable() && "python/leakbook.py not present";

test("diagnose, check and report refuse a folder of two processes, listing both and how to pick one", { skip: noAgent, timeout: 180_000 }, () => {
  const { dir, a, b } = mixedFolder();
  const listsBoth = new RegExp(`snapshots of 2 processes.*pid ${a.pid} started \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z \\(3 snapshots: ${a.pid}-0\\.lbsnap, ` +
    `${a.pid}-1\\.lbsnap, ${a.pid}-2\\.lbsnap\\); pid ${b.pid} started .*; pick one with --pid PID`);
  assertCleanFailure(leakbook("diagnose", dir), listsBoth, "diagnose");
  assertCleanFailure(leakbook("check", dir), listsBoth, "check");
  assertCleanFailure(leakbook("check", ...a.files, ...b.files), listsBoth, "check on the files");
  const output = join(tempDir(), "report.html");
  assertCleanFailure(leakbook("report", dir, "-o", output), listsBoth, "report");
  assert.equal(existsSync(output), false, "no report is written");

  const json = leakbook("diagnose", dir, "--json");
  assert.equal(json.status, 2, json.stderr);
  assert.match(json.stderr, /^leakbook: snapshots of 2 processes[^\n]*\n$/);
  const { error } = JSON.parse(json.stdout);
  assert.equal(error.kind, "mixed-processes");
  assert.match(error.message, listsBoth);
  assert.deepEqual(error.processes.map((p: { pid: number; files: string[] }) => [p.pid, p.files]), [[a.pid, a.files], [b.pid, b.files]]);
  assert.ok(error.processes.every((p: { process_start: number }) => p.process_start > 1e9), "start times in seconds");
});

test("--pid keeps one process's snapshots; a pid the folder does not hold is an error listing those it does", { skip: noAgent, timeout: 180_000 }, () => {
  const { dir, a, b } = mixedFolder();
  const picked = leakbook("diagnose", dir, "--pid", String(a.pid), "--json");
  assert.equal(picked.status, 0, picked.stderr);
  const diagnosis = JSON.parse(picked.stdout);
  assert.equal(diagnosis.snapshots, 3);
  assert.ok(diagnosis.findings.some((f: { path: string | null }) => f.path === "sys.modules['__main__'].ROUTES"), "the growing dict is found");
  const check = leakbook("check", dir, "--pid", String(b.pid));
  assert.equal(check.status, 1, `three rounds of growth are a leak: ${check.stdout}${check.stderr}`);
  assert.match(check.stdout, /^leakbook check: leak\./);
  const output = join(tempDir(), "report.html");
  const report = leakbook("report", dir, "--pid", String(b.pid), "-o", output);
  assert.equal(report.status, 0, report.stderr);
  assert.match(readFileSync(output, "utf8"), /ROUTES/);

  const absent = [a.pid, b.pid].includes(1) ? 2 : 1;
  const unknown = new RegExp(`no snapshot of pid ${absent} in the input; it holds pid ${a.pid} started .*; pid ${b.pid} started `);
  assertCleanFailure(leakbook("diagnose", dir, "--pid", String(absent)), unknown, "absent pid");
  assertCleanFailure(leakbook("check", dir, "--pid", String(absent)), unknown, "absent pid (check)");
  const json = leakbook("diagnose", dir, "--pid", String(absent), "--json");
  assert.equal(json.status, 2);
  assert.equal(JSON.parse(json.stdout).error.kind, "unknown-pid");
  assertCleanFailure(leakbook("diagnose", dir, "--pid", "12x"), /bad --pid '12x'/, "bad pid");
});

test("a reused pid (same pid, another start time) is another process, which --pid cannot pick", { skip: noAgent, timeout: 180_000 }, () => {
  const { b } = mixedFolder();
  const dir = tempDir();
  for (const file of b.files) copyFileSync(file, join(dir, basename(file)));
  copyAsReusedPid(b.files[2], join(dir, "reused.lbsnap"));
  const twice = new RegExp(`pid ${b.pid} started (\\S+) \\(3 snapshots.*; pid ${b.pid} started (?!\\1)\\S+ \\(1 snapshot: reused\\.lbsnap\\); ` +
    `a pid repeats .*name one process's files`);
  assertCleanFailure(leakbook("diagnose", dir), twice, "reused pid");
  assertCleanFailure(leakbook("diagnose", dir, "--pid", String(b.pid)), twice, "reused pid with --pid");
  const files = leakbook("diagnose", ...b.files.map((f) => join(dir, basename(f))), "--json");
  assert.equal(files.status, 0, files.stderr);
  assert.equal(JSON.parse(files.stdout).snapshots, 3);
});

test("summary of a folder of two processes lists them from the headers", { skip: noAgent, timeout: 180_000 }, () => {
  const { dir, a, b } = mixedFolder();
  const text = leakbook("summary", dir);
  assert.equal(text.status, 0, text.stderr);
  const iso = "\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z";
  assert.match(text.stdout, new RegExp(`\\nProcesses in ${dir}.*\\n  pid ${a.pid} +started ${iso}  3 snapshots  ${iso} \\.\\. ${iso}\\n` +
    `  pid ${b.pid} +started ${iso}  3 snapshots  ${iso} \\.\\. ${iso}  \\(summarized above\\)\\n`));
  const json = JSON.parse(leakbook("summary", dir, "--json").stdout);
  assert.equal(json.pid, b.pid);
  assert.deepEqual(json.processes.map((p: { pid: number; snapshots: number; summarized: boolean }) => [p.pid, p.snapshots, p.summarized]),
    [[a.pid, 3, false], [b.pid, 3, true]]);
  for (const p of json.processes) assert.ok(p.first_capture < p.last_capture && p.started <= p.first_capture, JSON.stringify(p));
  const one = JSON.parse(leakbook("summary", b.files[0], "--json").stdout);
  assert.equal(one.processes, undefined, "one process: no list");
});

test("paths --type shows the instances the last round created first, marked new, with paths from sys.modules", { skip: noAgent, timeout: 180_000 }, () => {
  const { dir, b } = mixedFolder();
  const lastRound = new Set(b.last_round.map((id) => "0x" + id.toString(16)));
  for (const name of ["RouteStats", "__main__.RouteStats"]) {
    const result = leakbook("paths", dir, "--type", name, "--json");
    assert.equal(result.status, 0, result.stderr);
    const out = JSON.parse(result.stdout);
    assert.deepEqual([out.type, out.types, out.snapshot, out.previous], [name, ["__main__.RouteStats"], b.files[2], b.files[1]]);
    assert.equal(out.instances.length, 5, "--top defaults to 5");
    for (const instance of out.instances) {
      assert.ok(lastRound.has(instance.address), `${instance.address} was created in the last round`);
      assert.equal(instance.new, true);
      assert.ok(instance.retained_bytes > instance.shallow_bytes && instance.shallow_bytes > 0);
      assert.match(instance.paths[0].expr, /^sys\.modules\['__main__'\]\.ROUTES\['\/r2\/\d+'\]$/);
    }
  }
  // Past the 30 new ones come the older instances.
  const all = JSON.parse(leakbook("paths", dir, "--type", "RouteStats", "--top", "40", "--json").stdout).instances;
  assert.deepEqual(all.map((i: { new: boolean }) => i.new), [...Array(30).fill(true), ...Array(10).fill(false)]);
  assert.ok(all.slice(30).every((i: { address: string }) => !lastRound.has(i.address)));

  const text = leakbook("paths", dir, "--type", "RouteStats", "--top", "2", "--k", "2");
  assert.equal(text.status, 0, text.stderr);
  assert.match(text.stdout, new RegExp(`^__main__\\.RouteStats in ${b.files[2]}: 90 instances, 30 new since ${b.pid}-1\\.lbsnap; the 2 newest`));
  assert.match(text.stdout, /\n\[1\] __main__\.RouteStats at 0x[0-9a-f]+  new  56 B shallow, \d+ B retained\n\n    #1  sys\.modules\['__main__'\]\.ROUTES\['\/r2\/\d+'\]\n/);
  assert.match(text.stdout, /\n\[2\] /);

  // A single file has no earlier snapshot to compare with: nothing is called new.
  const single = JSON.parse(leakbook("paths", b.files[2], "--type", "RouteStats", "--json").stdout);
  assert.equal(single.previous, null);
  assert.ok(single.instances.every((i: { new: boolean }) => i.new === false));
});

test("paths --type: an unknown type lists similar names; ADDRESS and --type are exclusive", { skip: noAgent, timeout: 180_000 }, () => {
  const { dir, b } = mixedFolder();
  assertCleanFailure(leakbook("paths", dir, "--type", "routestat"), /no type 'routestat' in .*; types containing 'routestat': __main__\.RouteStats$/, "case differs");
  assertCleanFailure(leakbook("paths", dir, "--type", "NoSuchThing"), /no type 'NoSuchThing' .*; no type name contains 'NoSuchThing'$/, "unknown");
  assertCleanFailure(leakbook("paths", dir, "--type", "dic", "--json"), /types containing 'dic': (\S+, ){0,4}\S+$/, "at most 5 suggestions");
  assertCleanFailure(leakbook("paths", dir, String(b.last_round[0]), "--type", "RouteStats"), /give ADDRESS or --type, not both/, "both");
  assertCleanFailure(leakbook("paths", dir), /missing ADDRESS or --type TYPE/, "neither");
  assertCleanFailure(leakbook("paths", dir, "--type", "RouteStats", "--top", "0"), /bad --top '0'/, "bad top");
  assertCleanFailure(leakbook("paths", dir, "0x10", "--top", "2"), /--top goes with --type/, "top without type");
});
