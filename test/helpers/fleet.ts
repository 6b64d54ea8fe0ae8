// Runs the pre-fork test server (examples/fleet/app.py): a parent and four real worker processes, two of
// which leak into the same module-level dict, each leaving its own snapshots.
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { PYTHON, REPO } from "./python.js";

export interface PreforkRun {
  workers: { pid: number; leaks: boolean; files: string[] }[];
  /** The holder the leaking workers fill, as a retention path. */
  holder: string;
  /** Sessions in the holder of a leaking and of a steady worker after the last round. */
  sessions: { leaking: number; steady: number };
}

export function runPreforkServer(dir: string, flags: string[] = []): PreforkRun {
  const env = { ...process.env, PYTHONPATH: [join(REPO, "python"), process.env.PYTHONPATH].filter(Boolean).join(":"), PYTHONDONTWRITEBYTECODE: "1" };
  const result = spawnSync(PYTHON, [join(REPO, "examples", "fleet", "app.py"), dir, ...flags], { env, encoding: "utf8", timeout: 120_000 });
  if (result.status !== 0) throw new Error(`examples/fleet/app.py failed (status ${result.status}): ${result.stderr || result.error}`);
  return JSON.parse(result.stdout) as PreforkRun;
}
