// `leakbook agent` and `leakbook run`: the agent's path, a program run under the agent with PYTHONPATH set, its
// arguments, options and exit status passed through, and signals passed on (once, and not when a terminal has
// already sent them to the program).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, isAbsolute, join } from "node:path";
import { splitProgram } from "../src/cli/run.js";
import { COMMANDS } from "../src/cli/commands.js";
import { agentAvailable, CLI, PYTHON, REPO, tempDir } from "./helpers/python.js";

const noAgent = !agentAvailable() && "python/leakbook.py not present";

function leakbook(args: string[], env: NodeJS.ProcessEnv = process.env) {
  return spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8", timeout: 120_000, env });
}

function script(dir: string, source: string): string {
  const path = join(dir, "app.py");
  writeFileSync(path, source);
  return path;
}

test("agent prints the path of the agent that comes with leakbook, which PYTHONPATH can then import", { skip: noAgent }, () => {
  const result = leakbook(["agent"]);
  assert.equal(result.status, 0, result.stderr);
  const path = result.stdout.trimEnd();
  assert.equal(result.stdout, path + "\n");
  assert.ok(isAbsolute(path) && path.endsWith("/leakbook.py") && existsSync(path), path);
  assert.equal(path, join(REPO, "python", "leakbook.py"));
  const imported = spawnSync(PYTHON, ["-c", "import leakbook; print(leakbook.__file__)"], {
    encoding: "utf8", cwd: tempDir(), env: { ...process.env, PYTHONPATH: dirname(path) },
  });
  assert.equal(imported.stdout.trim(), path, imported.stderr);
  assert.equal(leakbook(["agent", "extra"]).stderr, `leakbook: unexpected argument 'extra' (usage: ${COMMANDS.agent.usage})\n`);
});

test("the program's command line is split into the interpreter, its options and the script", () => {
  assert.deepEqual(splitProgram(["python3", "app.py", "--port", "80"]), { python: "python3", pythonOptions: [], script: ["app.py", "--port", "80"] });
  assert.deepEqual(splitProgram(["python3", "-X", "dev", "-u", "-Wdefault", "app.py", "-m"]),
    { python: "python3", pythonOptions: ["-X", "dev", "-u", "-Wdefault"], script: ["app.py", "-m"] });
  assert.deepEqual(splitProgram(["python3", "-Xfrozen_modules=off", "app.py"]).pythonOptions, ["-Xfrozen_modules=off"]);
  for (const unsupported of [["python3", "-m", "flask"], ["python3", "-um", "flask"], ["python3", "-c", "pass"], ["python3", "-"]]) {
    assert.throws(() => splitProgram(unsupported), new RegExp(`run: python3 ${unsupported[1]} is not supported: give a script file`), unsupported.join(" "));
  }
  assert.throws(() => splitProgram([]), /missing the program to run/);
  assert.throws(() => splitProgram(["python3", "-u"]), /missing the script after python3/);
});

const REPORTING_SCRIPT = `
import json, os, sys, leakbook
KEEP = [str(i) * 3 for i in range(2000)]
leakbook.snapshot(os.path.join(sys.argv[1], "explicit.lbsnap"))
print(json.dumps({"argv": sys.argv, "pythonpath": os.environ.get("PYTHONPATH"), "agent": leakbook.__file__,
                  "dev_mode": sys.flags.dev_mode, "main": __name__}))
sys.exit(7)
`;

test("run runs the program under the agent: its arguments, PYTHONPATH, Python's options, --out, its exit status", { skip: noAgent, timeout: 120_000 }, () => {
  const dir = tempDir();
  const out = join(dir, "snaps");
  const app = script(dir, REPORTING_SCRIPT);
  const result = leakbook(["run", "--out", out, "--interval", "3600", "--", PYTHON, "-X", "dev", app, out, "--flag"],
    { ...process.env, PYTHONPATH: "/already/there" });
  assert.equal(result.status, 7, result.stderr);
  const seen = JSON.parse(result.stdout);
  const agent = join(REPO, "python", "leakbook.py");
  assert.deepEqual(seen.argv, [app, out, "--flag"]);
  assert.equal(seen.pythonpath, `${dirname(agent)}:/already/there`, "the agent's directory first, the existing path kept");
  assert.equal(seen.agent, agent);
  assert.equal(seen.dev_mode, true, "-X dev reached Python");
  assert.equal(seen.main, "__main__");
  const snapshots = readdirSync(out).filter((name) => name.endsWith(".lbsnap"));
  assert.ok(snapshots.includes("explicit.lbsnap"), snapshots.join(" "));
  assert.equal(snapshots.length, 2, `the program's own snapshot and the recorder's at exit: ${snapshots.join(" ")}`);

  const other = join(dir, "other");
  // Without `--`, the first argument that is no option starts the program.
  const bare = leakbook(["run", "--out", other, PYTHON, app, other], { ...process.env, PYTHONPATH: "" });
  assert.equal(JSON.parse(bare.stdout).pythonpath, dirname(agent), "no empty entry when PYTHONPATH was empty");
});

test("run reports a program that cannot start, and passes on the agent's own refusals", { skip: noAgent }, () => {
  const missing = leakbook(["run", "--", "no-such-python-here", "app.py"]);
  assert.equal(missing.status, 2);
  assert.equal(missing.stderr, `leakbook: run: cannot start no-such-python-here: no such program (usage: ${COMMANDS.run.usage})\n`);
  const noScript = leakbook(["run", "--", PYTHON, join(tempDir(), "absent.py")]);
  assert.equal(noScript.status, 2, noScript.stderr);
  assert.match(noScript.stderr, /^leakbook: cannot read .*absent\.py/);
  const badInterval = leakbook(["run", "--interval", "soon", "--", PYTHON, join(tempDir(), "absent.py")]);
  assert.equal(badInterval.status, 2);
  assert.match(badInterval.stderr, /^leakbook: --interval needs a number of seconds/, "--interval reached the agent");
  const badStep = leakbook(["run", "--rss-limit", "1G", "--rss-step", "x", "--", PYTHON, "absent.py"]);
  assert.match(badStep.stderr, /^leakbook: --rss-step needs a number/, "--rss-limit and --rss-step reached the agent");
});

/** Starts `leakbook run` on a script with stdin a pipe (no terminal); resolves lines of stdout as they come. */
function startRun(source: string) {
  const dir = tempDir();
  const child = spawn(process.execPath, [CLI, "run", "--out", join(dir, "snaps"), "--interval", "3600", "--", PYTHON, script(dir, source)], { stdio: ["pipe", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stderr.on("data", (chunk) => (stderr += chunk));
  const lines: string[] = [];
  const waiting: ((line: string) => void)[] = [];
  child.stdout.on("data", (chunk) => {
    stdout += chunk;
    const parts = stdout.split("\n");
    stdout = parts.pop()!;
    for (const line of parts) (waiting.shift() ?? ((l: string) => lines.push(l)))(line);
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on("exit", (code, signal) => resolve({ code, signal })));
  return {
    child,
    nextLine: () => new Promise<string>((resolve) => (lines.length > 0 ? resolve(lines.shift()!) : waiting.push(resolve))),
    exited,
    stderr: () => stderr,
  };
}

const SIGNALS_SCRIPT = `
import signal, sys, time
received = []
def note(number, frame):
    received.append(signal.Signals(number).name)
    print("got", received[-1], flush=True)
    if number == signal.SIGTERM:
        sys.exit(5)
signal.signal(signal.SIGUSR2, note)
signal.signal(signal.SIGTERM, note)
signal.signal(signal.SIGINT, note)
print("ready", flush=True)
while True:
    time.sleep(0.05)
    if received.count("SIGINT") == 1:
        # A second SIGINT (one passed on twice) would arrive while this waits.
        time.sleep(0.5)
        print("SIGINT received", received.count("SIGINT"), "time(s)", flush=True)
        received.append("checked")
`;

test("run passes SIGUSR2, SIGINT (no terminal: once) and SIGTERM on to the program, and exits with its status", { skip: noAgent, timeout: 120_000 }, async () => {
  const run = startRun(SIGNALS_SCRIPT);
  assert.equal(await run.nextLine(), "ready", run.stderr());
  run.child.kill("SIGUSR2");
  assert.equal(await run.nextLine(), "got SIGUSR2");
  run.child.kill("SIGINT");
  assert.equal(await run.nextLine(), "got SIGINT");
  assert.equal(await run.nextLine(), "SIGINT received 1 time(s)");
  run.child.kill("SIGTERM");
  assert.equal(await run.nextLine(), "got SIGTERM");
  assert.deepEqual(await run.exited, { code: 5, signal: null }, run.stderr());
});

test("a program killed by a signal ends leakbook run by the same signal", { skip: noAgent, timeout: 120_000 }, async () => {
  const run = startRun("import os, signal\nos.kill(os.getpid(), signal.SIGTERM)\n");
  assert.deepEqual(await run.exited, { code: null, signal: "SIGTERM" }, run.stderr());
});

const noScriptTool = spawnSync("script", ["--version"]).status !== 0 && "util-linux script not installed";

const TERMINAL_SCRIPT = `
import os, signal, sys, time
count = []
signal.signal(signal.SIGINT, lambda number, frame: count.append(number))
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(str(os.getppid()))
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
while not os.path.exists(sys.argv[2]):
    time.sleep(0.05)
time.sleep(0.5)
print("SIGINT count", len(count))
sys.exit(4)
`;

test("on a terminal, run leaves SIGINT to the terminal: one sent to leakbook alone is not passed on", { skip: noAgent || noScriptTool, timeout: 120_000 }, async () => {
  const dir = tempDir();
  const pidFile = join(dir, "leakbook.pid");
  const go = join(dir, "go");
  const quote = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`;
  const command = [process.execPath, CLI, "run", "--out", join(dir, "snaps"), "--interval", "3600", "--", PYTHON, script(dir, TERMINAL_SCRIPT), pidFile, go].map(quote).join(" ");
  const child = spawn("script", ["-qefc", command, "/dev/null"], { stdio: ["pipe", "pipe", "pipe"] });
  let output = "";
  child.stdout.on("data", (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  while (!existsSync(pidFile)) await new Promise((resolve) => setTimeout(resolve, 50));
  const leakbookPid = Number(readFileSync(pidFile, "utf8"));
  process.kill(leakbookPid, "SIGINT");
  writeFileSync(go, "");
  assert.equal(await exited, 4, output);
  assert.match(output, /SIGINT count 0/);
});
