// The CLI's answers to mistakes: one line on stderr starting "leakbook: ", exit code 2, naming what was wrong and,
// for a typo, what was meant; a report that cannot be written is refused before any work; a folder of folders
// names the subfolders that hold snapshots.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { closest, editDistance } from "../src/cli/arguments.js";
import { COMMANDS } from "../src/cli/commands.js";
import { agentAvailable, CLI, tempDir } from "./helpers/python.js";
import { captureProcesses } from "./helpers/processes.js";

function leakbook(...args: string[]) {
  const result = spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8", timeout: 60_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Exit code 2, nothing on stdout, and stderr exactly `line` and a newline. */
function assertFailsWith(result: ReturnType<typeof leakbook>, line: string, what: string): void {
  assert.equal(result.stderr, `leakbook: ${line}\n`, what);
  assert.equal(result.status, 2, what);
  assert.equal(result.stdout, "", what);
}

const noAgent = !agentAvailable() && "python/leakbook.py not present";

test("edit distance counts a swap of neighbours as one edit; closest picks the nearest within reach, or the only prefix", () => {
  assert.equal(editDistance("jsno", "json"), 1);
  assert.equal(editDistance("diagnoze", "diagnose"), 1);
  assert.equal(editDistance("", "pid"), 3);
  assert.equal(editDistance("kitten", "sitting"), 3);
  const options = Object.keys(COMMANDS.diagnose.options);
  assert.equal(closest("jsno", options), "json");
  assert.equal(closest("JSON", options), "json");
  assert.equal(closest("pd", options), "pid");
  assert.equal(closest("colour", options), null);
  const commands = Object.keys(COMMANDS);
  assert.equal(closest("diagnoze", commands), "diagnose");
  assert.equal(closest("sumary", commands), "summary");
  assert.equal(closest("diag", commands), "diagnose", "the only command it begins");
  assert.equal(closest("r", commands), null, "one letter begins report and run: no guess");
  assert.equal(closest("frobnicate", commands), null);
});

test("a mistyped option or command gets one line with what was meant", () => {
  assertFailsWith(leakbook("diagnose", "snaps", "--jsno"), "unknown option --jsno (did you mean --json?)", "--jsno");
  assertFailsWith(leakbook("diagnoze", "snaps"), "unknown command 'diagnoze' (did you mean 'diagnose'?)", "diagnoze");
  assertFailsWith(leakbook("report", "snaps", "--froce", "-o", "r.html"), "unknown option --froce (did you mean --force?)", "--froce");
  assertFailsWith(leakbook("paths", "x.lbsnap", "-k", "2"), "unknown option -k (did you mean --k?)", "-k for --k");
  assertFailsWith(leakbook("run", "--outt", "snaps", "--", "python3", "app.py"), "unknown option --outt (did you mean --out?)", "run --outt");
  assertFailsWith(leakbook("frobnicate"), `unknown command 'frobnicate' (commands: ${Object.keys(COMMANDS).join(", ")})`, "no guess");
  assertFailsWith(leakbook("summary", "x", "--colour"), `unknown option --colour (usage: ${COMMANDS.summary.usage})`, "no guess: the usage");
  assertFailsWith(leakbook("diagnose", "snaps", "--pid"), `--pid needs a value (usage: ${COMMANDS.diagnose.usage})`, "no value");
  assertFailsWith(leakbook("diagnose", "snaps", "--pid", "--json"), `--pid needs a value (usage: ${COMMANDS.diagnose.usage})`, "an option is no value");
  assertFailsWith(leakbook("diagnose", "snaps", "--json=yes"), `--json takes no value (usage: ${COMMANDS.diagnose.usage})`, "a value for a flag");
  // What the user typed is shown, but cannot drive the terminal.
  assertFailsWith(leakbook("diagnose", "--\x1b[2Jx"), `unknown option --\\x1b[2Jx (usage: ${COMMANDS.diagnose.usage})`, "escaped");
  // --help wins over a mistake beside it, and after `run --` belongs to the program.
  const help = leakbook("diagnose", "--jsno", "--help");
  assert.equal(help.status, 0, help.stderr);
  assert.match(help.stdout, /^Usage: leakbook diagnose /);
  assert.equal(leakbook("help", "diagnose").stdout, help.stdout, "leakbook help COMMAND");
  assertFailsWith(leakbook("run", "--", "python3", "--help"), `missing the script after python3 (usage: ${COMMANDS.run.usage})`, "the program's --help");
});

test("report refuses an output directory that does not exist before loading anything, and names it", () => {
  const dir = tempDir();
  const missing = join(dir, "nodir");
  const output = join(missing, "r.html");
  // The input does not exist either: the output is checked first, as the diagnosis can take long.
  assertFailsWith(leakbook("report", join(dir, "no-snapshots"), "-o", output), `report: cannot write ${output}: directory ${missing} does not exist`, "missing dir");
  const file = join(dir, "plain-file");
  writeFileSync(file, "");
  assertFailsWith(leakbook("report", dir, "-o", join(file, "r.html")), `report: cannot write ${join(file, "r.html")}: ${file} is not a directory`, "a file as dir");
});

test("a folder holding only subfolders names those that hold snapshots", { skip: noAgent, timeout: 180_000 }, () => {
  const root = tempDir();
  for (const name of ["a", "b", "empty"]) mkdirSync(join(root, name));
  captureProcesses(join(root, "a"), 1);
  captureProcesses(join(root, "b"), 1);
  assert.equal(readdirSync(join(root, "a")).filter((name) => name.endsWith(".lbsnap")).length, 3);
  for (const command of ["diagnose", "check", "summary"]) {
    assertFailsWith(leakbook(command, root), `${root}/ holds no snapshots; its subfolders a/, b/ do: pass one of them`, command);
  }
  assertFailsWith(leakbook("diagnose", `${root}/`), `${root}/ holds no snapshots; its subfolders a/, b/ do: pass one of them`, "given with its slash");
  const one = tempDir();
  mkdirSync(join(one, "run-1"));
  captureProcesses(join(one, "run-1"), 1);
  assertFailsWith(leakbook("diagnose", one), `${one}/ holds no snapshots; its subfolder run-1/ does: pass it`, "one subfolder");
  const none = tempDir();
  mkdirSync(join(none, "logs"));
  writeFileSync(join(none, "notes.txt"), "not a snapshot");
  assertFailsWith(leakbook("diagnose", none), `${none}: no snapshots in this directory or its subfolders (no .lbsnap files)`, "none anywhere");
  const picked = leakbook("diagnose", join(root, "a"), "--json");
  assert.equal(picked.status, 0, picked.stderr);
  assert.equal(JSON.parse(picked.stdout).snapshots, 3, "the subfolder it names is a series");
});
