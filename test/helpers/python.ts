// Runs Python scripts for tests: the interpreter is $LEAKBOOK_PYTHON or python3, with the repository's
// python/ directory on PYTHONPATH so that `import leakbook` finds the capture agent.
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root (this file runs from dist/test/helpers). */
export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
export const PYTHON = process.env.LEAKBOOK_PYTHON || "python3";
/** The CLI as built by `tsc -p .`. */
export const CLI = join(REPO, "dist/src/cli/main.js");

/** True when the capture agent exists, so tests on real captures can run. */
export function agentAvailable(): boolean {
  return existsSync(join(REPO, "python/leakbook.py")) || existsSync(join(REPO, "python/leakbook/__init__.py"));
}

export function tempDir(prefix = "leakbook-test-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

function environment(): NodeJS.ProcessEnv {
  const pythonPath = [join(REPO, "python"), process.env.PYTHONPATH].filter(Boolean).join(":");
  return { ...process.env, PYTHONPATH: pythonPath, PYTHONDONTWRITEBYTECODE: "1" };
}

/** Writes `source` to DIR/script.py and returns its path. */
function writeScript(dir: string, source: string): string {
  const path = join(dir, "script.py");
  writeFileSync(path, source);
  return path;
}

/**
 * Runs a Python script to completion with `dir` as its first argument (where it writes snapshots) and returns
 * what it printed to stdout parsed as JSON. Throws with the script's stderr when it fails.
 */
export function runPythonJson<T = Record<string, unknown>>(source: string, dir: string, timeoutMs = 120_000): T {
  const result = spawnSync(PYTHON, [writeScript(dir, source), dir], { env: environment(), encoding: "utf8", timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 });
  if (result.status !== 0) throw new Error(`python failed (status ${result.status}): ${result.stderr || result.error}`);
  return JSON.parse(result.stdout) as T;
}

/** A running Python process talking JSON lines over stdin/stdout. */
export interface LivePython {
  /** Next line the process prints, parsed as JSON. */
  nextMessage<T = Record<string, unknown>>(): Promise<T>;
  send(message: unknown): void;
  /** Resolves with the exit code; kills the process if it is still running after `timeoutMs`. */
  finish(timeoutMs?: number): Promise<number | null>;
  stderr(): string;
}

export function startPython(source: string, dir: string): LivePython {
  const child: ChildProcessWithoutNullStreams = spawn(PYTHON, [writeScript(dir, source), dir], { env: environment() });
  let buffered = "";
  let errors = "";
  const lines: string[] = [];
  const waiting: ((line: string | null) => void)[] = [];
  child.stdout.setEncoding("utf8");
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (text: string) => (errors += text));
  child.stdout.on("data", (text: string) => {
    buffered += text;
    let newline;
    while ((newline = buffered.indexOf("\n")) >= 0) {
      const line = buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      const waiter = waiting.shift();
      if (waiter) waiter(line);
      else lines.push(line);
    }
  });
  const exited = new Promise<number | null>((done) => child.on("close", (code) => {
    for (const waiter of waiting.splice(0)) waiter(null);
    done(code);
  }));
  return {
    nextMessage<T>() {
      return new Promise<T>((done, fail) => {
        const take = (line: string | null) => {
          if (line === null) fail(new Error(`python exited early: ${errors}`));
          else done(JSON.parse(line) as T);
        };
        const line = lines.shift();
        if (line !== undefined) take(line);
        else if (child.exitCode !== null) take(null);
        else waiting.push(take);
      });
    },
    send(message) {
      child.stdin.write(JSON.stringify(message) + "\n");
    },
    async finish(timeoutMs = 10_000) {
      child.stdin.end();
      const timer = setTimeout(() => child.kill(), timeoutMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
    stderr: () => errors,
  };
}
