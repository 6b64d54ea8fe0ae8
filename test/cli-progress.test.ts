// Progress on stderr: when it is shown (a terminal, not TERM=dumb, no --json), how a line is drawn, redrawn and
// cleared, and what real runs print on a pseudo-terminal (util-linux `script`) and without one.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { CLEAR_LINE, Progress, REDRAW_MS, showsProgress } from "../src/cli/progress.js";
import { agentAvailable, CLI, tempDir } from "./helpers/python.js";
import { captureProcesses, type CapturedProcess } from "./helpers/processes.js";

test("progress is shown on a terminal only, never with --json nor on TERM=dumb", () => {
  assert.equal(showsProgress({ isTTY: true }, { TERM: "xterm-256color" }, false), true);
  assert.equal(showsProgress({ isTTY: true }, {}, false), true);
  assert.equal(showsProgress({ isTTY: true }, { TERM: "xterm" }, true), false, "--json");
  assert.equal(showsProgress({ isTTY: true }, { TERM: "dumb" }, false), false, "a terminal that cannot erase a line");
  assert.equal(showsProgress({ isTTY: false }, {}, false), false, "a pipe or a file");
  assert.equal(showsProgress({}, {}, false), false, "a stream that is no TTY says nothing");
});

/** A stream that records what is written to it, and a clock the test moves. */
function fakeTerminal(columns?: number) {
  const writes: string[] = [];
  let time = 1000;
  return {
    writes,
    stream: { isTTY: true, columns, write: (text: string) => writes.push(text) },
    now: () => time,
    advance: (ms: number) => (time += ms),
  };
}

test("a progress line is drawn in place, redrawn at most every REDRAW_MS unless its label changes, and cleared", () => {
  const t = fakeTerminal(60);
  const progress = new Progress(t.stream, true, t.now);
  progress.update("loading snapshot 1/3", 0.25);
  progress.update("loading snapshot 1/3", 0.5);
  assert.deepEqual(t.writes, [`${CLEAR_LINE}loading snapshot 1/3 25%`], "the same label soon after: not redrawn");
  t.advance(REDRAW_MS);
  progress.update("loading snapshot 1/3", 0.5);
  progress.update("loading snapshot 2/3", 0);
  progress.update("diagnosing: step 1/10 (leak)");
  assert.deepEqual(t.writes.slice(1), [`${CLEAR_LINE}loading snapshot 1/3 50%`, `${CLEAR_LINE}loading snapshot 2/3 0%`, `${CLEAR_LINE}diagnosing: step 1/10 (leak)`]);
  progress.update("x", 1.7);
  assert.equal(t.writes.at(-1), `${CLEAR_LINE}x 100%`, "fractions past the end are capped");
  t.writes.length = 0;
  progress.message("leakbook: warning: something");
  assert.deepEqual(t.writes, [CLEAR_LINE, "leakbook: warning: something\n"], "a message is written on a line of its own");
  progress.update("x", 1);
  progress.clear();
  progress.clear();
  assert.deepEqual(t.writes.slice(2), [`${CLEAR_LINE}x 100%`, CLEAR_LINE], "redrawn after the message; cleared once");
});

test("a progress line fits the terminal's width, keeps its percentage, and shows control characters escaped", () => {
  const t = fakeTerminal(30);
  const progress = new Progress(t.stream, true, t.now);
  progress.update("loading a-very-long-snapshot-name.lbsnap", 0.42);
  const line = t.writes[0].slice(CLEAR_LINE.length);
  assert.equal(line, "loading a-very-long-snap… 42%");
  assert.equal(line.length, 29, "one column short of the width: a full line would wrap");
  progress.update("loading \x1b[31mred\r");
  assert.equal(t.writes[1], `${CLEAR_LINE}loading \\x1b[31mred\\r`);
  const unknownWidth = fakeTerminal(0);
  new Progress(unknownWidth.stream, true, unknownWidth.now).update("y".repeat(100));
  assert.equal(unknownWidth.writes[0].length, CLEAR_LINE.length + 79, "80 columns when the terminal does not say");
});

test("disabled progress writes nothing, but its messages still go out", () => {
  const t = fakeTerminal(80);
  const progress = new Progress(t.stream, false, t.now);
  progress.update("loading snapshot 1/3", 0.5);
  progress.clear();
  progress.message("leakbook: warning: kept");
  assert.deepEqual(t.writes, ["leakbook: warning: kept\n"]);
});

const noAgent = !agentAvailable() && "python/leakbook.py not present";
const noScript = spawnSync("script", ["--version"]).status !== 0 && "util-linux script not installed";

let captured: CapturedProcess | undefined;
function series(): CapturedProcess {
  captured ??= captureProcesses(tempDir(), 1)[0];
  return captured;
}

const quote = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`;

/**
 * Runs the CLI on a pseudo-terminal, stdout sent to a file: what `script` passes on is what the CLI wrote to
 * stderr (the terminal), and the file is its output.
 */
function onTerminal(...args: string[]): { status: number | null; terminal: string; stdout: string } {
  const out = join(tempDir(), "stdout");
  const command = [process.execPath, CLI, ...args].map(quote).join(" ") + ` > ${quote(out)}`;
  const result = spawnSync("script", ["-qefc", command, "/dev/null"], { encoding: "utf8", timeout: 120_000, env: { ...process.env, TERM: "xterm" } });
  return { status: result.status, terminal: result.stdout, stdout: readFileSync(out, "utf8") };
}

function plain(...args: string[]) {
  return spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8", timeout: 120_000 });
}

test("diagnose on a terminal shows each snapshot loading, each step and the analyses, then clears the line", { skip: noAgent || noScript, timeout: 180_000 }, () => {
  const dir = join(series().files[0], "..");
  const run = onTerminal("diagnose", dir);
  assert.equal(run.status, 0, run.terminal);
  for (const k of [1, 2, 3]) assert.ok(run.terminal.includes(`${CLEAR_LINE}loading snapshot ${k}/3`), `loading ${k}: ${JSON.stringify(run.terminal)}`);
  for (const step of ["1/10 (leak)", "3/10 (types)", "10/10 (sites)"]) assert.ok(run.terminal.includes(`${CLEAR_LINE}diagnosing: step ${step}`), step);
  assert.match(run.terminal, /analysing snapshot [123]\/3 \(dominators[^)]*\) \d+%/);
  assert.ok(run.terminal.endsWith(CLEAR_LINE), "the line is cleared at the end");
  assert.doesNotMatch(run.terminal, /\n/, "progress never scrolls the terminal");
  const piped = plain("diagnose", dir);
  assert.equal(run.stdout, piped.stdout, "the output is the same with progress on stderr");
  assert.equal(piped.stderr, "", "no progress when stderr is not a terminal");
});

test("summary and paths show loading and analysis on a terminal; nothing with --json or without a terminal", { skip: noAgent || noScript, timeout: 180_000 }, () => {
  const { files } = series();
  const summary = onTerminal("summary", files[2]);
  assert.equal(summary.status, 0, summary.terminal);
  assert.ok(summary.terminal.startsWith(`${CLEAR_LINE}loading ${files[2].split("/").pop()}`), JSON.stringify(summary.terminal));
  assert.match(summary.terminal, /analysing \(dominators: dfs\) 100%/);
  assert.ok(summary.terminal.endsWith(CLEAR_LINE));
  const paths = onTerminal("paths", join(files[2], ".."), "--type", "RouteStats", "--top", "1");
  assert.equal(paths.status, 0, paths.terminal);
  assert.match(paths.terminal, /loading \S+-1\.lbsnap/, "the previous snapshot's load too");

  for (const args of [["diagnose", join(files[0], ".."), "--json"], ["summary", files[2], "--json"]]) {
    const json = onTerminal(...args);
    assert.equal(json.status, 0, json.terminal);
    assert.equal(json.terminal, "", `${args[0]} --json: nothing on the terminal`);
    assert.doesNotThrow(() => JSON.parse(json.stdout));
  }
  assert.equal(plain("summary", files[2]).stderr, "", "not a terminal");
});
