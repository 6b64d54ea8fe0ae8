// diagnose(): the verdict, the top finding's kind and its holder on every bundled example (through the built CLI,
// as users and CI call it), `check` exit codes, one- and two-snapshot series, allocation sites, and the rules for
// holders the examples do not cover, on series captured from Python programs started here.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { diagnose, FINDING_KINDS, type Finding } from "../src/diagnose/index.js";
import { loadSeries } from "../src/engine/series.js";
import { agentAvailable, CLI, REPO, runPythonJson, tempDir } from "./helpers/python.js";

function leakbook(...args: string[]) {
  const result = spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8", timeout: 120_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

interface JsonDiagnosis {
  verdict: string;
  steps: Record<string, unknown>[];
  findings: (Finding & Record<string, unknown>)[];
}

function diagnoseJson(...inputs: string[]): JsonDiagnosis {
  const result = leakbook("diagnose", ...inputs, "--json");
  assert.equal(result.status, 0, result.stderr);
  return JSON.parse(result.stdout) as JsonDiagnosis;
}

const example = (name: string, dir = "snapshots") => join(REPO, "examples", name, dir);

/** The bundled examples: verdict, the kinds the top finding may have, and the holder its path must name. */
const EXPECTED = [
  { name: "cache", kinds: ["unbounded-cache", "growing-container"], holder: /\._profile_cache\b|\.render_badge\b/ },
  { name: "tree", kinds: ["bidirectional-tree", "cycle"], holder: /\._selection_history$/ },
  { name: "strbuf", kinds: ["string-growth"], holder: /\.REQUEST_LOG\.text$/ },
  { name: "holder", kinds: ["bound-method-retention", "traceback-retention"], holder: /\._listeners$|\._failed_batches$/ },
];

for (const { name, kinds, holder } of EXPECTED) {
  test(`diagnose --json on examples/${name}: leak, top finding ${kinds.join(" or ")} naming the planted holder`, () => {
    const d = diagnoseJson(example(name));
    assert.equal(d.verdict, "leak");
    const top = d.findings[0];
    assert.ok(kinds.includes(top.kind), `top finding is ${top.kind}: ${top.title}`);
    assert.equal(top.severity, "high");
    assert.match(top.path ?? "", holder);
    assert.match(top.path ?? "", /^sys\.modules\['__main__'\]\./);
  });
}

test("diagnose --json on examples/steady: no-leak, nothing above info", () => {
  const d = diagnoseJson(example("steady"));
  assert.equal(d.verdict, "no-leak");
  assert.deepEqual(d.findings.filter((f) => f.severity !== "info"), []);
  const leakStep = d.steps.find((s) => s.id === "leak");
  assert.equal(leakStep?.status, "ok");
});

test("the --json contract: steps without evidence, findings with the documented fields and kinds", () => {
  const d = diagnoseJson(example("holder"));
  assert.deepEqual(d.steps.map((s) => s.number), [1, 0, 2, 3, 4, 5, 6, 7, 8]);
  for (const s of d.steps) {
    for (const key of ["id", "title", "question", "answer", "status", "query"]) assert.equal(typeof s[key], "string", `${key} of ${s.id}`);
    assert.ok(["ok", "warn", "leak", "skipped", "info"].includes(s.status as string));
    assert.equal("evidence" in s, false);
  }
  assert.ok(d.findings.length > 0);
  for (const f of d.findings) {
    assert.ok((FINDING_KINDS as readonly string[]).includes(f.kind), f.kind);
    assert.ok(["high", "medium", "low", "info"].includes(f.severity));
    for (const key of ["title", "remedy", "step"]) assert.equal(typeof f[key], "string");
    assert.ok(f.path === null || typeof f.path === "string");
    assert.ok(f.type === null || typeof f.type === "string");
    // Evidence is plain JSON: numbers, short strings, booleans, null and arrays of numbers.
    for (const value of Object.values(f.evidence)) {
      const ok = value === null || ["number", "string", "boolean"].includes(typeof value) ||
        (Array.isArray(value) && value.every((v) => v === null || typeof v === "number"));
      assert.ok(ok, `evidence value ${JSON.stringify(value)}`);
      if (typeof value === "string") assert.ok(value.length <= 300);
    }
  }
  // Both planted holders are named once each, by the mechanism that keeps their growth, with the cluster of new
  // objects behind it: member types, entries, and a sample member with its address and path.
  const index = (kind: string, path: RegExp) => d.findings.findIndex((f) => f.kind === kind && path.test(f.path ?? ""));
  const bound = index("bound-method-retention", /\._listeners$/);
  const traceback = index("traceback-retention", /\._failed_batches$/);
  assert.deepEqual([traceback, bound].sort(), [0, 1]);
  assert.equal(d.findings.filter((f) => /\._listeners$|\._failed_batches$/.test(f.path ?? "")).length, 2);
  assert.match(d.findings[bound].remedy, /WeakMethod/);
  assert.match(d.findings[traceback].remedy, /__traceback__|clear_frames/);
  for (const k of [bound, traceback]) {
    const f = d.findings[k];
    assert.ok(f.cluster && f.cluster.new_objects > 0 && f.cluster.members.length > 0, JSON.stringify(f.cluster));
    assert.equal(f.cluster.retained_sizes.length, 4);
    assert.match(f.sample?.address ?? "", /^0x[0-9a-f]+$/);
    assert.ok((f.sample?.path ?? "").startsWith(f.path ?? "?"), `${f.sample?.path} under ${f.path}`);
  }
  assert.ok(d.findings[bound].cluster!.members.some((m) => m.type === "__main__.Widget"));
  assert.ok(d.findings[traceback].cluster!.members.some((m) => m.type === "__main__.BatchError"));
  assert.match(d.findings[bound].cluster!.entries.join(" "), /\[\d+\]: __main__\.Widget\.on_event/);
  // Mechanisms no cluster needs stay below the holders.
  assert.ok(d.findings.slice(2).every((f) => f.severity !== "high"));
});

test("the tree example: the two-way tree is named at the list that keeps it, one finding for the list", () => {
  const d = diagnoseJson(example("tree"));
  const tree = d.findings[0];
  assert.equal(tree.kind, "bidirectional-tree");
  assert.equal(tree.path, "sys.modules['__main__']._selection_history");
  assert.equal(tree.evidence.parent_link, ".parent");
  assert.match(tree.remedy, /weakref/);
  assert.match(tree.sample?.path ?? "", /^sys\.modules\['__main__'\]\._selection_history\[\d+\]/);
  assert.equal(d.findings.filter((f) => f.path === tree.path).length, 1);
});

test("check exits 1 on a leak and 0 on the steady example, printing the verdict and top findings", () => {
  const leak = leakbook("check", example("cache"));
  assert.equal(leak.status, 1, leak.stderr);
  assert.match(leak.stdout, /^leakbook check: leak\. /);
  assert.match(leak.stdout, /_profile_cache|render_badge/);
  const steady = leakbook("check", example("steady"));
  assert.equal(steady.status, 0, steady.stderr);
  assert.match(steady.stdout, /^leakbook check: no-leak\. /);
});

test("diagnose prints the checklist and the ranked findings as text", () => {
  const result = leakbook("diagnose", example("strbuf"));
  assert.equal(result.status, 0, result.stderr);
  assert.match(result.stdout, /^Verdict: leak\. /m);
  for (let n = 1; n <= 8; n++) assert.match(result.stdout, new RegExp(`^\\s+${n}\\. \\[(OK|WARN|LEAK|SKIP|INFO)\\] `, "m"));
  assert.match(result.stdout, /^\s+1\. \[high\] string-growth: /m);
  assert.match(result.stdout, /path: sys\.modules\['__main__'\]\.REQUEST_LOG\.text/);
  assert.match(result.stdout, /fix: {2}.*deque/);
});

test("one snapshot: single-snapshot checks only, said in step 1, verdict inconclusive", () => {
  const last = join(example("holder"), "holder-3.lbsnap");
  const d = diagnoseJson(last);
  assert.equal(d.verdict, "inconclusive");
  const step1 = d.steps.find((s) => s.id === "leak");
  assert.equal(step1?.status, "info");
  assert.match(String(step1?.answer), /^One snapshot .*single-snapshot checks/);
  assert.equal(d.steps.find((s) => s.id === "long-lived")?.status, "skipped");
  // Suspects are still named, none above low.
  assert.ok(d.findings.some((f) => f.kind === "traceback-retention" && /_failed_batches/.test(f.path ?? "")));
  assert.ok(d.findings.every((f) => f.severity === "low" || f.severity === "info"));
});

test("two snapshots: growth makes the verdict inconclusive (one interval cannot tell a leak from a warm-up)", () => {
  const dir = example("cache");
  const d = diagnoseJson(join(dir, "cache-0.lbsnap"), join(dir, "cache-3.lbsnap"));
  assert.equal(d.verdict, "inconclusive");
  assert.equal(d.findings[0].severity, "medium");
  assert.match(d.findings[0].path ?? "", /_profile_cache|render_badge/);
});

test("snapshots with tracemalloc sites: step 8 names the program's lines and the type findings carry their site", async () => {
  const series = await loadSeries(example("cache", "snapshots-tracemalloc"));
  const d = diagnose(series);
  const sites = d.steps.find((s) => s.id === "sites");
  assert.equal(sites?.status, "info");
  assert.match(sites?.answer ?? "", /examples\/cache\/app\.py:\d+/);
  assert.ok(sites && sites.evidence.tables.allocationSites.numRows() > 0);
  const withSite = d.findings.filter((f) => typeof f.evidence.allocated_at === "string");
  assert.ok(withSite.length > 0);
  // Without sites, step 8 says how to capture them.
  const plain = diagnose(await loadSeries(example("steady")));
  assert.match(plain.steps.find((s) => s.id === "sites")?.answer ?? "", /--tracemalloc/);
});

test("every step carries its question, answer, query and evidence; the series steps carry charts", async () => {
  const d = diagnose(await loadSeries(example("cache")));
  for (const s of d.steps) {
    assert.ok(s.question.endsWith("?"), s.id);
    assert.ok(s.answer.length > 0 && !s.answer.includes("\n"), s.id);
    assert.ok(s.query.length > 0, s.id);
  }
  const charts = (id: string) => Object.keys(d.steps.find((s) => s.id === id)!.evidence.charts);
  assert.deepEqual(charts("leak"), ["census"]);
  assert.deepEqual(charts("memory"), ["memoryGap"]);
  assert.deepEqual(charts("types").sort(), ["typeGrowth", "typeHistory"]);
  assert.deepEqual(charts("caches"), ["cacheLengths"]);
  // Step 2 folds the growing types into the holders that keep their new objects.
  const types = d.steps.find((s) => s.id === "types")!;
  assert.match(types.answer, /kept by sys\.modules\['__main__'\]\._profile_cache \([\d,]+ new\)/);
  assert.ok(types.evidence.tables.clusters.numRows() > 0);
  // Deterministic: the same snapshots give the same answer.
  const again = diagnose(await loadSeries(example("cache")));
  assert.deepEqual(again.findings, d.findings);
});

// Holders the bundled examples do not plant: a mutable default argument, a class attribute and a closure cell that
// grow every round, and gc.garbage.
const GROWTH_PROGRAM = String.raw`
import gc, json, os, sys
import leakbook

OUT = sys.argv[1]

def remember(item, seen=[]):
    seen.append(item)
    return len(seen)

class Registry:
    entries = []

def make_recorder():
    history = []
    def record(item):
        history.append(item)
    return record

RECORD = make_recorder()

def work(r):
    for i in range(300):
        remember("default %d %d " % (r, i) * 4)
        Registry.entries.append("class %d %d " % (r, i) * 4)
        RECORD("closure %d %d " % (r, i) * 4)

# The first capture imports what the agent needs; it is not part of the series.
warm = os.path.join(OUT, "warm-up.lbsnap")
leakbook.snapshot(warm)
os.remove(warm)
files = []
for r in range(4):
    work(r)
    gc.collect()
    path = os.path.join(OUT, "growth-%d.lbsnap" % r)
    leakbook.snapshot(path)
    files.append(path)

gc.set_debug(gc.DEBUG_SAVEALL)
class Lost:
    pass
for i in range(200):
    lost = Lost()
    lost.me = lost
    lost.payload = "lost %d " % i * 20
del lost
gc.collect()
gc.set_debug(0)
garbage = os.path.join(OUT, "garbage.lbsnap")
leakbook.snapshot(garbage)
print(json.dumps({"files": files, "garbage": garbage}))
`;

test("a mutable default, a class attribute and a closure that grow are named by kind, ahead of their containers", { skip: !agentAvailable() }, async () => {
  const planted = runPythonJson<{ files: string[]; garbage: string }>(GROWTH_PROGRAM, tempDir());
  const d = diagnose(await loadSeries(planted.files));
  assert.equal(d.verdict, "leak");
  const expected: [string, RegExp][] = [
    ["default-argument", /^sys\.modules\['__main__'\]\.remember\.__defaults__\[0\]$/],
    ["class-attribute", /^sys\.modules\['__main__'\]\.Registry\.(__dict__\['entries'\]|entries)$/],
    ["closure-retention", /^sys\.modules\['__main__'\]\.RECORD\.__closure__\[0\]\.cell_contents$/],
  ];
  for (const [kind, path] of expected) {
    const at = d.findings.findIndex((f) => f.kind === kind && path.test(f.path ?? ""));
    assert.ok(at >= 0, `${kind} at ${path}: ${JSON.stringify(d.findings.map((f) => [f.kind, f.path]))}`);
    assert.equal(d.findings[at].severity, "high");
    const container = d.findings.findIndex((f) => f.kind === "growing-container" && f.path === d.findings[at].path);
    if (container >= 0) assert.ok(container > at, `${kind} ranks above the bare container`);
  }
  assert.match(d.findings.find((f) => f.kind === "default-argument")!.remedy, /None/);
  // Registry is never instantiated: no "move it into __init__" advice, one finding for its path.
  const registry = d.findings.filter((f) => /\.Registry\./.test(f.path ?? ""));
  assert.equal(registry.length, 1);
  assert.match(registry[0].remedy, /registry \(it has no instances\)/);
  assert.doesNotMatch(registry[0].remedy, /__init__/);

  // gc.garbage is decisive even in one snapshot.
  const one = diagnose(await loadSeries([planted.garbage]));
  assert.equal(one.verdict, "leak");
  const lost = one.findings.find((f) => f.kind === "uncollectable");
  assert.ok(lost && lost.severity === "high");
  assert.equal(one.findings[0].kind, "uncollectable");
});

test("diagnose, check and report explain themselves with --help and fail in one line on bad input", () => {
  for (const command of ["diagnose", "check", "report"]) {
    const help = leakbook(command, "--help");
    assert.equal(help.status, 0);
    assert.match(help.stdout, new RegExp(`^Usage: leakbook ${command} DIR\\|FILE`));
  }
  const cases: [string[], RegExp][] = [
    [["diagnose"], /missing DIRECTORY or FILE/],
    [["check", join(tempDir(), "missing.lbsnap")], /missing\.lbsnap/],
    [["diagnose", tempDir()], /empty directory/],
    [["diagnose", example("cache"), "--bogus"], /--bogus/],
    [["report", example("cache")], /missing -o/],
  ];
  for (const [args, expected] of cases) {
    const result = leakbook(...args);
    assert.equal(result.status, 2, `${args.join(" ")}: ${result.stderr}`);
    assert.equal(result.stdout, "");
    const lines = result.stderr.trimEnd().split("\n");
    assert.equal(lines.length, 1, result.stderr);
    assert.match(lines[0], /^leakbook: /);
    assert.match(lines[0], expected);
  }
});
