// Memory limits: under an address-space limit (prlimit --as) or a small JavaScript heap (node --max-old-space-size)
// the CLI fails with one line naming the memory the input needs, estimated from the header before anything large is
// allocated, instead of dying in V8; and what fits still runs (without the helper thread when that does not fit).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { analysisNeed, lbsnapLoadNeed } from "../src/engine/memory-budget.js";
import { formatBytes } from "../src/common/units.js";
import { synthesize, writeLbsnap } from "../bench/synth.js";
import { agentAvailable, CLI, REPO, runPythonJson, tempDir } from "./helpers/python.js";
import { headerOf } from "./helpers/damage.js";

const noAgent = !agentAvailable() && "python/leakbook.py not present";
const noPrlimit = spawnSync("prlimit", ["--version"]).status !== 0 && "prlimit (util-linux) not installed";

// About 300,000 objects: enough for the analysis to want its helper thread.
const CAPTURE = `
import json, os, sys
import leakbook
class User:
    def __init__(self, i):
        self.name = 'user-%d' % i
        self.tags = ['tag-%d' % (i % 100), 'active' if i % 2 else 'idle']
        self.point = (i, -i)
USERS = {('key-%d' % i): User(i) for i in range(30000)}
print(json.dumps({"path": leakbook.snapshot(os.path.join(sys.argv[1], "users.lbsnap"))}))
`;

let captured: string | null = null;
const capture = () => (captured ??= runPythonJson<{ path: string }>(CAPTURE, tempDir()).path);

/** Runs the CLI with `prefix` before node (prlimit ...) and node options; also reports the process's peak address space. */
function leakbook(prefix: string[], nodeOptions: string[], ...args: string[]) {
  // A wrapper that runs the CLI and writes VmPeak (KiB) to fd 3 at exit. With -e the first argument, "leakbook",
  // stands where the script's path would: the CLI reads its own arguments from argv[2] on, as under `node CLI`.
  const wrapper = `process.on("exit", () => require("fs").writeSync(3, /VmPeak:\\s+(\\d+)/.exec(require("fs").readFileSync("/proc/self/status", "utf8"))[1]));` +
    `import(${JSON.stringify(CLI)});`;
  const command = [...prefix, process.execPath, ...nodeOptions, "-e", wrapper, "leakbook", ...args];
  const result = spawnSync(command[0], command.slice(1), { encoding: "utf8", timeout: 180_000, stdio: ["ignore", "pipe", "pipe", "pipe"] });
  assert.equal(result.error, undefined, result.error?.message);
  return { status: result.status, signal: result.signal, stdout: result.stdout, stderr: result.stderr, peakBytes: Number(result.output[3] || 0) * 1024 };
}

/** One line on stderr, exit 2, nothing on stdout, no trace. */
function assertOneLine(result: ReturnType<typeof leakbook>, expected: RegExp, what: string): void {
  assert.equal(result.status, 2, `${what}: exit ${result.status} ${result.signal ?? ""}: ${result.stderr.slice(0, 2000)}`);
  assert.equal(result.stdout, "", what);
  assert.match(result.stderr, /^leakbook: [^\n]+\n$/, what);
  assert.match(result.stderr.trimEnd(), expected, what);
}

test("under an address-space limit: a real capture too large for it is one line naming its need; one that fits runs without the helper thread", { skip: noAgent || noPrlimit, timeout: 600_000 }, () => {
  const path = capture();
  const header = headerOf(readFileSync(path));
  const counts = { objects: header.sections.obj_address.count, edges: header.sections.edge_target.count };
  assert.ok(counts.objects >= 200_000, `${counts.objects} objects: the analysis would start its helper thread`);
  const load = lbsnapLoadNeed(statSync(path).size, counts.objects, new DataView(readFileSync(path).buffer).getUint32(12, true));
  const analysis = analysisNeed(counts.objects, counts.edges);
  const need = load.buffers + load.heap + analysis.buffers + analysis.heap;

  // What the CLI itself takes: its peak address space on a tiny file.
  const tiny = join(tempDir(), "tiny.lbsnap");
  writeLbsnap(tiny, synthesize(1_000, 2_500, 1));
  const idle = leakbook([], [], "summary", tiny);
  assert.equal(idle.status, 0, idle.stderr);
  assert.ok(idle.peakBytes > 0, "VmPeak read");

  for (const command of ["summary", "diagnose"]) {
    const tight = leakbook(["prlimit", `--as=${Math.round(idle.peakBytes + need / 4)}`], [], command, path);
    assertOneLine(tight, new RegExp(`users\\.lbsnap: not enough memory to load and analyse it: it needs about ${formatBytes(need).replace(".", "\\.")}, ` +
      "and the address-space limit \\(ulimit -v\\) of [\\d.]+ [MG]iB leaves [\\d.]+ [KMG]?i?B$"), `${command} under a tight limit`);
  }
  // Room for the load and the analysis, not for a helper thread's own heap (about 800 MiB of address space here).
  const enough = leakbook(["prlimit", `--as=${Math.round(idle.peakBytes + need + 300 * 2 ** 20)}`], [], "summary", path, "--json");
  assert.equal(enough.status, 0, `${enough.signal ?? ""} ${enough.stderr}`);
  assert.equal(JSON.parse(enough.stdout).objects, counts.objects);
  const unlimited = leakbook([], [], "summary", path, "--json");
  assert.deepEqual(JSON.parse(enough.stdout).types, JSON.parse(unlimited.stdout).types, "the same analysis without the helper thread");
});

test("with a small JavaScript heap: a real capture still runs (its columns live outside the heap); a header or a dump too large for it is one line", { skip: noAgent, timeout: 600_000 }, () => {
  const path = capture();
  const small = leakbook([], ["--max-old-space-size=16"], "summary", path);
  assert.equal(small.status, 0, `${small.signal ?? ""} ${small.stderr.slice(0, 2000)}`);

  // A header of 40 MB (a long type list): parsing it would need far more than 64 MiB of heap.
  const dir = tempDir();
  const columns = synthesize(1_000, 2_500, 2);
  const types = [...columns.types, ...Array.from({ length: 100_000 }, (_, k) => `app.${"x".repeat(400)}${k}`)];
  const bigHeader = join(dir, "big-header.lbsnap");
  writeLbsnap(bigHeader, { ...columns, types });
  assertOneLine(leakbook([], ["--max-old-space-size=64"], "summary", bigHeader),
    /big-header\.lbsnap: not enough memory to load it: it needs about [\d.]+ MiB of JavaScript heap, and the heap's limit \(node --max-old-space-size\) leaves [\d.]+ MiB$/, "big header");

  // A meliae dump of a real heap: its string table is on the heap.
  const dump = runPythonJson<{ path: string }>(`
import gc, json, os, sys
class User:
    def __init__(self, i):
        self.name = 'user-%d' % i
USERS = {('key-%d' % i): User(i) for i in range(60000)}
path = os.path.join(sys.argv[1], 'heap.json')
seen, pending = set(), gc.get_objects()
with open(path, 'w') as out:
    while pending:
        o = pending.pop()
        if id(o) in seen:
            continue
        seen.add(id(o))
        record = {'address': id(o), 'type': type(o).__name__, 'size': sys.getsizeof(o), 'refs': [id(r) for r in gc.get_referents(o)]}
        if type(o) is str:
            record['value'] = o[:100]
        out.write(json.dumps(record) + '\\n')
        pending.extend(gc.get_referents(o))
print(json.dumps({'path': path}))
`, dir);
  assertOneLine(leakbook([], ["--max-old-space-size=16"], "summary", dump.path),
    /heap\.json: not enough memory to import it: it needs about [\d.]+ MiB of JavaScript heap/, "meliae dump");
  assert.equal(leakbook([], [], "summary", dump.path).status, 0, "the dump imports with the default heap");
});

test("an allocation that fails anyway is one line naming the last estimated need, exit 2", () => {
  const script = `
    import { ensureMemory } from ${JSON.stringify(join(REPO, "dist/src/engine/memory-budget.js"))};
    import { reportFailure } from ${JSON.stringify(join(REPO, "dist/src/cli/output.js"))};
    ensureMemory({ buffers: 3 * 2 ** 30, heap: 0 }, "big.lbsnap", "analyse");
    let failure;
    try { new ArrayBuffer(2 ** 40); } catch (error) { failure = error; }
    process.exitCode = reportFailure(failure);`;
  const result = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8", timeout: 60_000 });
  assert.equal(result.status, 2, result.stderr);
  assert.equal(result.stderr, "leakbook: not enough memory (Array buffer allocation failed) to analyse big.lbsnap, which needs about 3.0 GiB\n");
});
