// `leakbook agent` and `leakbook run`: the capture agent that comes with the package (python/leakbook.py), and a
// Python program run under it without copying it anywhere.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { constants } from "node:os";
import { delimiter, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { UsageError } from "./arguments.js";
import { AGENT_RUN_OPTIONS, COMMANDS, type OptionValues } from "./commands.js";
import { terminalText } from "../common/escape.js";

/** The agent's path: this file is dist/src/cli/run.js, in the clone and in an installed package alike. */
export function agentPath(): string {
  const path = fileURLToPath(new URL("../../../python/leakbook.py", import.meta.url));
  if (!existsSync(path)) throw new Error(`the capture agent is missing from this installation (no ${path})`);
  return path;
}

export async function printAgentPath(positionals: string[]): Promise<void> {
  if (positionals.length > 0) throw new UsageError(`unexpected argument '${terminalText(positionals[0])}' (usage: ${COMMANDS.agent.usage})`);
  process.stdout.write(agentPath() + "\n");
}

/** Python's own options that take the next argument as their value (-X dev, -W error). */
const TAKES_VALUE = /^(-\w*[XW]|--check-hash-based-pycs)$/;

/**
 * Splits `PYTHON [PYTHON-OPTIONS] SCRIPT [ARGS...]` into the interpreter with its options and the script with its
 * arguments. -m and -c name no script file, which the agent's `run` needs.
 */
export function splitProgram(program: string[]): { python: string; pythonOptions: string[]; script: string[] } {
  const usage = COMMANDS.run.usage;
  const [python, ...rest] = program;
  if (python === undefined) throw new UsageError(`missing the program to run (usage: ${usage})`);
  let at = 0;
  while (at < rest.length && rest[at].startsWith("-")) {
    const option = rest[at];
    // The one-letter flags of a group such as -um, up to an -X or -W whose value may follow in the same word.
    const flags = option.startsWith("--") ? "" : option.slice(1).split(/[XW]/)[0];
    if (option === "-" || /[mc]/.test(flags)) throw new UsageError(`run: ${terminalText(python)} ${terminalText(option)} is not supported: give a script file (usage: ${usage})`);
    at += TAKES_VALUE.test(option) ? 2 : 1;
  }
  if (at >= rest.length) throw new UsageError(`missing the script after ${terminalText(python)} (usage: ${usage})`);
  return { python, pythonOptions: rest.slice(0, at), script: rest.slice(at) };
}

/** The agent's `run` options from leakbook's, in the agent's spelling. */
function agentOptions(values: OptionValues): string[] {
  return Object.keys(AGENT_RUN_OPTIONS).flatMap((name) => {
    const value = values[name];
    if (value === undefined) return [];
    return value === true ? [`--${name}`] : [`--${name}`, String(value)];
  });
}

/** Signals passed on to the program whatever the terminal. */
const FORWARDED: NodeJS.Signals[] = ["SIGTERM", "SIGUSR1", "SIGUSR2"];
/** Signals a terminal sends to its whole foreground group (the program included): passed on only without one. */
const FROM_TERMINAL: NodeJS.Signals[] = ["SIGINT", "SIGQUIT", "SIGHUP"];
/** Signals that end a Node process without a core dump: a program killed by one of them ends leakbook the same way. */
const RAISED_AGAIN: NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP", "SIGUSR2", "SIGALRM", "SIGKILL"];

/**
 * Runs the program under the agent: `PYTHON [PYTHON-OPTIONS] .../leakbook.py run [AGENT-OPTIONS] -- SCRIPT ARGS`.
 * The agent file is run by its path, so no other leakbook.py (one in the current directory) can stand in for it;
 * PYTHONPATH starts with its directory, so the program's own `import leakbook` finds it too.
 */
export async function runProgram(program: string[], values: OptionValues): Promise<void> {
  const { python, pythonOptions, script } = splitProgram(program);
  const agent = agentPath();
  const args = [...pythonOptions, agent, "run", ...agentOptions(values), "--", ...script];
  const pythonPath = [dirname(agent), process.env.PYTHONPATH].filter((p) => p !== undefined && p !== "").join(delimiter);
  const child = spawn(python, args, { stdio: "inherit", env: { ...process.env, PYTHONPATH: pythonPath } });

  const onTerminal = process.stdin.isTTY === true;
  const passOn = (signal: NodeJS.Signals) => child.kill(signal);
  // A terminal's signals reach the program directly; listening for them keeps leakbook alive until it exits.
  const wait = () => undefined;
  const forwarded = onTerminal ? FORWARDED : [...FORWARDED, ...FROM_TERMINAL];
  for (const signal of forwarded) process.on(signal, passOn);
  if (onTerminal) for (const signal of FROM_TERMINAL) process.on(signal, wait);

  const ended = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
    child.on("error", (error: NodeJS.ErrnoException) => {
      const why = error.code === "ENOENT" ? "no such program" : error.code === "EACCES" ? "permission denied" : error.message;
      reject(new UsageError(`run: cannot start ${terminalText(python)}: ${why} (usage: ${COMMANDS.run.usage})`));
    });
    child.on("exit", (code, signal) => resolve({ code, signal }));
  }).finally(() => {
    for (const signal of forwarded) process.off(signal, passOn);
    if (onTerminal) for (const signal of FROM_TERMINAL) process.off(signal, wait);
  });
  // Ends as the program did: with its exit status, or by its signal; for a signal that would not end Node, or would
  // dump its core, 128 + the signal's number (as a shell reports a death by signal).
  if (ended.signal === null) process.exitCode = ended.code ?? 0;
  else if (RAISED_AGAIN.includes(ended.signal)) process.kill(process.pid, ended.signal);
  else process.exitCode = 128 + constants.signals[ended.signal];
}
