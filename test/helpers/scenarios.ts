// The diagnosis scenario suite: real Python programs in test/scenarios (leak_*.py and lib_*.py leak, ok_*.py do not),
// each captured by the real agent and diagnosed, then judged against the expectation in its header:
//
//   # verdict: leak                      (or no-leak)
//   # kinds: growing-container|library-leak   acceptable kinds of the FIRST finding
//   # holder: sys.modules['__main__'].CACHE   a substring the first finding's path must contain
//   # type: Connection|builtins.method    optional: the first finding's type must contain one of these
//   # remedy: clear_memo|fresh Pickler    optional: the first finding's remedy must contain one of these
//
// A control (verdict no-leak) passes when the verdict is no-leak and no finding is above "low".
// Used by test/scenarios.test.ts and bench/scenarios.ts.
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { diagnose, type Diagnosis, type Finding } from "../../src/diagnose/index.js";
import { loadSeries } from "../../src/engine/series.js";
import { REPO } from "./python.js";

export const SCENARIO_DIR = join(REPO, "test/scenarios");
/** The interpreter with the third-party libraries installed (Debian's), overridable for other machines. */
export const SCENARIO_PYTHON = process.env.LEAKBOOK_SCENARIO_PYTHON || "/usr/bin/python3";
/** How long one program may take to run and capture its snapshots. */
export const SCENARIO_TIMEOUT_MS = Number(process.env.LEAKBOOK_SCENARIO_TIMEOUT_MS) || 90_000;

export interface Expectation {
  verdict: "leak" | "no-leak";
  /** Acceptable kinds of the first finding (leaks only). */
  kinds: string[];
  /** Substring of the first finding's path (leaks only; null when the header names none). */
  holder: string | null;
  /** Substrings of which the first finding's type must contain one (optional; "|"-separated in the header). */
  type: string[] | null;
  /** Substrings of which the first finding's remedy must contain one (optional; "|"-separated in the header). */
  remedy: string[] | null;
  /**
   * A known weakness of the engine (`# known: why`): the scenario is still run and scored, and its test is
   * reported as a to-do rather than a failure until the engine gets it right.
   */
  known: string | null;
}

export interface Scenario {
  /** File name without .py, e.g. "leak_logger_per_request". */
  name: string;
  file: string;
  expect: Expectation;
}

export interface FindingSummary {
  kind: string;
  severity: string;
  path: string | null;
  type: string | null;
  title: string;
}

export interface Judgement {
  name: string;
  expect: Expectation;
  pass: boolean;
  /** Why it failed (or "ok"). */
  reason: string;
  /** The verdict, or null when the program or the diagnosis failed. */
  verdict: string | null;
  /** The diagnosis's one-sentence summary. */
  summary: string;
  first: FindingSummary | null;
  /** The first three findings, for failure messages. */
  top: FindingSummary[];
  /** Wall time of the capture and of the diagnosis. */
  captureMs: number;
  diagnoseMs: number;
}

const SEVERITY_RANK: Record<string, number> = { info: 0, low: 1, medium: 2, high: 3 };

/** Reads the header comment lines of a scenario program. Throws when they are missing or malformed. */
export function parseHeader(source: string, file = "scenario"): Expectation {
  const fields = new Map<string, string>();
  for (const line of source.split("\n").slice(0, 80)) {
    const m = /^#\s*(verdict|kinds|holder|type|remedy|known):\s*(.*?)\s*$/.exec(line);
    if (m && !fields.has(m[1])) fields.set(m[1], m[2]);
  }
  const verdict = fields.get("verdict");
  if (verdict !== "leak" && verdict !== "no-leak") throw new Error(`${file}: header '# verdict: leak|no-leak' missing`);
  const kinds = (fields.get("kinds") ?? "").split("|").map((k) => k.trim()).filter(Boolean);
  if (verdict === "leak" && kinds.length === 0) throw new Error(`${file}: a leak scenario needs '# kinds: ...'`);
  return {
    verdict, kinds, holder: fields.get("holder") || null,
    type: alternatives(fields.get("type")), remedy: alternatives(fields.get("remedy")), known: fields.get("known") || null,
  };
}

/** "a | b" -> ["a", "b"]; null when the field is absent or empty. */
function alternatives(field: string | undefined): string[] | null {
  const parts = (field ?? "").split("|").map((t) => t.trim()).filter(Boolean);
  return parts.length > 0 ? parts : null;
}

/** The scenario programs, sorted by name; `filter` keeps those whose name contains any of the given strings. */
export function listScenarios(filter: readonly string[] = []): Scenario[] {
  return readdirSync(SCENARIO_DIR)
    .filter((f) => /^(leak|lib|ok)_.*\.py$/.test(f))
    .sort()
    .map((f) => {
      const file = join(SCENARIO_DIR, f);
      return { name: basename(f, ".py"), file, expect: parseHeader(readFileSync(file, "utf8"), f) };
    })
    .filter((s) => filter.length === 0 || filter.some((part) => s.name.includes(part)));
}

function environment(): NodeJS.ProcessEnv {
  const pythonPath = [join(REPO, "python"), SCENARIO_DIR, process.env.PYTHONPATH].filter(Boolean).join(":");
  return { ...process.env, PYTHONPATH: pythonPath, PYTHONDONTWRITEBYTECODE: "1" };
}

/** Runs one program into `dir`; resolves when it exits 0, rejects with the tail of its stderr otherwise. */
export function capture(scenario: Scenario, dir: string, timeoutMs = SCENARIO_TIMEOUT_MS): Promise<void> {
  return new Promise((done, fail) => {
    const child = spawn(SCENARIO_PYTHON, [scenario.file, dir], { env: environment(), stdio: ["ignore", "ignore", "pipe"] });
    let errors = "";
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (text: string) => {
      errors = (errors + text).slice(-4000);
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, timeoutMs);
    child.on("error", (err) => {
      clearTimeout(timer);
      fail(new Error(`cannot start ${SCENARIO_PYTHON}: ${err.message}`));
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      if (timedOut) fail(new Error(`timed out after ${timeoutMs} ms`));
      else if (code !== 0) fail(new Error(`exited with ${code ?? signal}: ${errors.trim().split("\n").slice(-6).join("\n")}`));
      else done();
    });
  });
}

function summarise(f: Finding): FindingSummary {
  return { kind: f.kind, severity: f.severity, path: f.path, type: f.type, title: f.title };
}

/** Judges a diagnosis against a scenario's header: the reason it fails, or null when it passes. */
export function judge(expect: Expectation, d: Pick<Diagnosis, "verdict" | "findings">): string | null {
  if (expect.verdict === "no-leak") {
    if (d.verdict !== "no-leak") return `verdict ${d.verdict}, expected no-leak`;
    const loud = d.findings.filter((f) => (SEVERITY_RANK[f.severity] ?? 3) > SEVERITY_RANK.low);
    if (loud.length > 0) return `${loud.length} finding(s) above low, first ${loud[0].severity} ${loud[0].kind}`;
    return null;
  }
  if (d.verdict !== "leak") return `verdict ${d.verdict}, expected leak`;
  const first = d.findings[0];
  if (!first) return "no findings";
  if (!expect.kinds.includes(first.kind)) return `first finding is ${first.kind}, expected ${expect.kinds.join("|")}`;
  if (expect.holder !== null && !(first.path ?? "").includes(expect.holder)) {
    return `first finding's path ${first.path ?? "(none)"} does not contain ${expect.holder}`;
  }
  if (expect.type !== null && !expect.type.some((t) => (first.type ?? "").includes(t))) {
    return `first finding's type ${first.type ?? "(none)"} does not contain ${expect.type.join(" or ")}`;
  }
  if (expect.remedy !== null && !expect.remedy.some((r) => first.remedy.includes(r))) {
    return `first finding's remedy does not mention ${expect.remedy.join(" or ")}: ${first.remedy}`;
  }
  return null;
}

/**
 * Captures, diagnoses and judges one scenario; never throws (a failure to run is a failed judgement). The snapshots
 * go to a temporary folder that is removed afterwards, or to keepDir/<name> (emptied first) when keepDir is given.
 */
export async function runScenario(scenario: Scenario, keepDir?: string): Promise<Judgement> {
  let dir: string;
  if (keepDir) {
    dir = join(keepDir, scenario.name);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
  } else {
    dir = mkdtempSync(join(tmpdir(), `leakbook-${scenario.name}-`));
  }
  const result: Judgement = {
    name: scenario.name, expect: scenario.expect, pass: false, reason: "", verdict: null, summary: "", first: null, top: [],
    captureMs: 0, diagnoseMs: 0,
  };
  try {
    let started = performance.now();
    try {
      await capture(scenario, dir);
    } catch (err) {
      result.reason = `program failed: ${(err as Error).message}`;
      return result;
    } finally {
      result.captureMs = performance.now() - started;
    }
    started = performance.now();
    let d: Diagnosis;
    try {
      d = diagnose(await loadSeries(dir));
    } catch (err) {
      result.reason = `diagnosis failed: ${(err as Error).stack ?? err}`;
      return result;
    } finally {
      result.diagnoseMs = performance.now() - started;
    }
    result.verdict = d.verdict;
    result.summary = d.summary;
    result.top = d.findings.slice(0, 3).map(summarise);
    result.first = result.top[0] ?? null;
    const reason = judge(scenario.expect, d);
    result.pass = reason === null;
    result.reason = reason ?? "ok";
    return result;
  } finally {
    if (!keepDir) rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Runs scenarios `parallel` at a time (the captures are separate processes; the diagnoses share this thread), in
 * the given order; `onDone` is called as each finishes.
 */
export async function runScenarios(
  scenarios: readonly Scenario[], parallel = 2, onDone?: (j: Judgement) => void, keepDir?: string,
): Promise<Judgement[]> {
  const results: Judgement[] = new Array(scenarios.length);
  let next = 0;
  const lane = async () => {
    while (next < scenarios.length) {
      const i = next++;
      results[i] = await runScenario(scenarios[i], keepDir);
      onDone?.(results[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(parallel, scenarios.length)) }, lane));
  return results;
}

/** The first three findings of a judgement, one line each, for failure messages. */
export function describeTop(j: Judgement): string {
  if (j.top.length === 0) return "  (no findings)";
  return j.top.map((f, i) => `  ${i + 1}. [${f.severity}] ${f.kind} path=${f.path ?? "(none)"}: ${f.title}`).join("\n");
}

/** "what the header expects", for tables. */
export function describeExpectation(e: Expectation): string {
  if (e.verdict === "no-leak") return "no-leak";
  return `${e.kinds.join("|")} @ ${e.holder ?? (e.type ? "type " + e.type.join("|") : "(any)")}`;
}

export interface Score {
  leaks: number;
  leaksPassed: number;
  controls: number;
  controlsPassed: number;
}

export function score(results: readonly Judgement[]): Score {
  const leaks = results.filter((r) => r.expect.verdict === "leak");
  const controls = results.filter((r) => r.expect.verdict === "no-leak");
  return {
    leaks: leaks.length, leaksPassed: leaks.filter((r) => r.pass).length,
    controls: controls.length, controlsPassed: controls.filter((r) => r.pass).length,
  };
}

export function describeScore(s: Score): string {
  return `${s.leaksPassed} of ${s.leaks} leaks with the right holder first; ${s.controlsPassed} of ${s.controls} controls clean`;
}
