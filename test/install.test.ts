// Use from anywhere: the package `npm pack` makes carries the built library and the agent (no tests, no sources);
// installed globally into a temporary prefix, its `leakbook` command works from a directory outside the clone:
// it captures a program with `leakbook run`, names its agent, and diagnoses the snapshots. And `npm ci` is quiet
// about install scripts (every dependency that has one is reviewed in package.json's allowScripts).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync, type SpawnSyncOptions } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { delimiter, dirname, join } from "node:path";
import { agentAvailable, PYTHON, REPO, tempDir } from "./helpers/python.js";

/** The environment of a shell outside npm: none of the npm_* settings `npm test` passes to its children. */
function userEnvironment(): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.toLowerCase().startsWith("npm_")));
  // The bin's `#!/usr/bin/env node` must find this Node.
  return { ...env, PATH: [dirname(process.execPath), env.PATH].join(delimiter) };
}

function run(command: string, args: string[], options: SpawnSyncOptions = {}) {
  const result = spawnSync(command, args, { encoding: "utf8", timeout: 240_000, env: userEnvironment(), maxBuffer: 64 * 1024 * 1024, ...options });
  return { status: result.status, stdout: String(result.stdout ?? ""), stderr: String(result.stderr ?? ""), error: result.error };
}

const noNpm = run("npm", ["--version"]).status !== 0 && "npm not on PATH";
const noAgent = !agentAvailable() && "python/leakbook.py not present";

const GROWING_APP = `
import os, sys
import leakbook   # found through the PYTHONPATH leakbook run sets

class RouteStats:
    def __init__(self, route):
        self.route = route
        self.hits = [0] * 8

ROUTES = {}
for round in range(4):
    for k in range(200):
        ROUTES["/r%d/%d" % (round, k)] = RouteStats("/r%d/%d" % (round, k))
    if round < 3:
        leakbook.snapshot(os.path.join(sys.argv[1], "round-%d.lbsnap" % round))
# The fourth round is in the snapshot the recorder takes at exit.
`;

test("npm pack's package, installed globally, works from any directory: agent, run and diagnose", { skip: noNpm || noAgent, timeout: 300_000 }, (t) => {
  const work = tempDir("leakbook-install-");
  // The suite runs after the build, so the package is packed from dist/ as it is (packing would build it again).
  const packed = run("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", work], { cwd: REPO });
  assert.equal(packed.status, 0, packed.stderr);
  const [{ filename, files }] = JSON.parse(packed.stdout) as { filename: string; files: { path: string }[] }[];
  const paths = files.map((f) => f.path);
  for (const needed of ["package.json", "README.md", "python/leakbook.py", "dist/src/cli/main.js", "dist/src/index.js", "dist/src/index.d.ts", "dist/src/engine/graph-worker.js"]) {
    assert.ok(paths.includes(needed), `${needed} is in the package`);
  }
  const strays = paths.filter((p) => /^(src|test|bench|examples|notebooks|docs|python\/tests|dist\/test|dist\/bench)\//.test(p));
  assert.deepEqual(strays, [], "no sources, tests, benchmarks or examples");

  const prefix = join(work, "prefix");
  const started = performance.now();
  const installed = run("npm", ["install", "--global", "--ignore-scripts", "--prefer-offline", "--no-audit", "--no-fund", "--prefix", prefix, join(work, filename)], { cwd: work });
  t.diagnostic(`npm install --global of the tarball: ${Math.round(performance.now() - started)} ms`);
  assert.equal(installed.status, 0, installed.stderr);
  const leakbook = join(prefix, "bin", "leakbook");
  assert.ok(existsSync(leakbook), `${leakbook} exists`);

  // A project of one's own, nowhere near the clone.
  const project = join(work, "my-service");
  mkdirSync(project);
  writeFileSync(join(project, "app.py"), GROWING_APP);
  const inProject: SpawnSyncOptions = { cwd: project };

  const agent = run(leakbook, ["agent"], inProject);
  assert.equal(agent.status, 0, agent.stderr);
  const agentFile = agent.stdout.trimEnd();
  assert.equal(agentFile, join(prefix, "lib", "node_modules", "leakbook", "python", "leakbook.py"));
  const imported = run(PYTHON, ["-c", "import leakbook; print(leakbook.__file__)"], { ...inProject, env: { ...userEnvironment(), PYTHONPATH: dirname(agentFile) } });
  assert.equal(imported.stdout.trim(), agentFile, imported.stderr);

  const captured = run(leakbook, ["run", "--out", "snaps", "--interval", "3600", "--", PYTHON, "app.py", "snaps"], inProject);
  assert.equal(captured.status, 0, captured.stderr);
  const snapshots = readdirSync(join(project, "snaps")).filter((name) => name.endsWith(".lbsnap")).sort();
  assert.equal(snapshots.length, 4, `three rounds and the recorder's snapshot at exit: ${snapshots.join(" ")}`);

  const diagnosis = run(leakbook, ["diagnose", "snaps", "--json"], inProject);
  assert.equal(diagnosis.status, 0, diagnosis.stderr);
  const { verdict, findings } = JSON.parse(diagnosis.stdout) as { verdict: string; findings: { path: string | null }[] };
  assert.equal(verdict, "leak");
  assert.equal(findings[0].path, "sys.modules['__main__'].ROUTES");
  const check = run(leakbook, ["check", "snaps"], inProject);
  assert.equal(check.status, 1, "check says leak with exit status 1");
});

test("npm ci is quiet about install scripts: every dependency that has one is reviewed in allowScripts", { skip: noNpm }, (t) => {
  // `npm install-scripts ls` lists what the install warning would name; npm before 11.16 has neither.
  const listed = run("npm", ["install-scripts", "ls", "--json"], { cwd: REPO });
  if (listed.status !== 0 && /Unknown command/i.test(listed.stderr + listed.stdout)) {
    t.skip("this npm has no install-script policy (and prints no warning)");
    return;
  }
  assert.equal(listed.status, 0, listed.stderr);
  assert.deepEqual(JSON.parse(listed.stdout), { allowScripts: [] }, "no dependency's install script left unreviewed");
});
