// Start-up: --help, a mistyped command and `agent` load only the command table, the analysis and its libraries
// only the commands that use them. Checked on a copy of the built package with no node_modules at all: what
// needs arquero or vega fails there, what does not works.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { copyFileSync, cpSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { agentAvailable, REPO, tempDir } from "./helpers/python.js";

test("--help, a typo, agent and run load none of the analysis; diagnose loads it when it runs", { skip: !agentAvailable() && "python/leakbook.py not present" }, () => {
  const root = tempDir();
  cpSync(join(REPO, "dist", "src"), join(root, "dist", "src"), { recursive: true });
  copyFileSync(join(REPO, "package.json"), join(root, "package.json"));
  mkdirSync(join(root, "python"));
  copyFileSync(join(REPO, "python", "leakbook.py"), join(root, "python", "leakbook.py"));
  const cli = join(root, "dist", "src", "cli", "main.js");
  const run = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: "utf8", cwd: root, timeout: 60_000 });

  const help = run("--help");
  assert.equal(help.status, 0, help.stderr);
  assert.match(help.stdout, /^leakbook: find memory leaks/);
  for (const command of ["diagnose", "report", "paths", "summary", "run"]) assert.equal(run(command, "--help").status, 0, command);
  assert.equal(run("diagnoze").stderr, "leakbook: unknown command 'diagnoze' (did you mean 'diagnose'?)\n");
  assert.equal(run("agent").stdout, join(root, "python", "leakbook.py") + "\n");
  assert.match(run("--version").stdout, /^leakbook \d+\.\d+\.\d+\n$/);

  // Without node_modules the analysis cannot load: proof that the commands above never tried.
  const diagnose = run("diagnose", join(REPO, "examples", "cache", "snapshots"));
  assert.equal(diagnose.status, 3, diagnose.stderr);
  assert.match(diagnose.stderr, /^leakbook: internal error: Cannot find package 'arquero'/);
});
