// The processes of a fleet: every snapshot file under the directories given (walked to any depth, so one folder
// per host and pid works as well as one flat folder) or given as a file, grouped by what each file's header says:
// host, pid and process start (a pid is reused over time, and the same pid runs on many hosts).
import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { SnapshotError } from "../common/errors.js";
import { readHeaderMeta } from "../engine/series.js";

const EXTENSION = ".lbsnap";

export interface FleetProcess {
  /** The host name the agent recorded; "" when the files do not say. */
  host: string;
  pid: number;
  /** Seconds since the epoch. */
  process_start: number;
  /** Its files, oldest capture first, with their capture times (seconds since the epoch) and kinds. */
  files: string[];
  times: number[];
  kinds: ("full" | "census")[];
}

export interface FleetInput {
  /** Ordered by host, pid and start. */
  processes: FleetProcess[];
  /** Files left out, with the reason (no readable leakbook header: a meliae dump, a damaged or foreign file). */
  skipped: { file: string; reason: string }[];
}

/** The .lbsnap files under `dir`, by path; symbolic links to directories are not followed (no cycles). */
async function walk(dir: string, out: string[]): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
    throw new SnapshotError(`cannot read directory ${dir}: ${error.code ?? error.message}`);
  });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) await walk(path, out);
    else if (entry.name.endsWith(EXTENSION)) out.push(path);
  }
}

async function inputFiles(inputs: readonly string[]): Promise<string[]> {
  const files: string[] = [];
  for (const input of inputs) {
    const info = await stat(input).catch(() => null);
    if (!info) throw new SnapshotError(`${input}: no such file or directory`);
    if (info.isDirectory()) await walk(input, files);
    else files.push(input);
  }
  return files;
}

/** Finds and groups the snapshot files; a SnapshotError when there are none. */
export async function discoverFleet(inputs: readonly string[]): Promise<FleetInput> {
  if (inputs.length === 0) throw new SnapshotError("no snapshot directory or file given");
  const files = await inputFiles(inputs);
  const groups = new Map<string, FleetProcess>();
  const captures: { file: string; time: number; kind: "full" | "census"; group: FleetProcess }[] = [];
  const skipped: FleetInput["skipped"] = [];
  for (const file of files) {
    const meta = await readHeaderMeta(file);
    if (meta === null || typeof meta.pid !== "number") {
      skipped.push({ file, reason: "no readable leakbook header (a meliae dump, a damaged or a foreign file)" });
      continue;
    }
    const host = typeof meta.hostname === "string" ? meta.hostname : "";
    const start = typeof meta.process_start === "number" ? meta.process_start : 0;
    const key = JSON.stringify([host, meta.pid, start]);
    let group = groups.get(key);
    if (!group) groups.set(key, (group = { host, pid: meta.pid, process_start: start, files: [], times: [], kinds: [] }));
    const census = (meta.options as { census?: unknown } | undefined)?.census === true;
    captures.push({ file, time: typeof meta.time_unix === "number" ? meta.time_unix : 0, kind: census ? "census" : "full", group });
  }
  captures.sort((a, b) => a.time - b.time || (a.file < b.file ? -1 : 1));
  for (const c of captures) {
    c.group.files.push(c.file);
    c.group.times.push(c.time);
    c.group.kinds.push(c.kind);
  }
  const processes = [...groups.values()].sort((a, b) =>
    (a.host < b.host ? -1 : a.host > b.host ? 1 : 0) || a.pid - b.pid || a.process_start - b.process_start);
  if (processes.length === 0) {
    throw new SnapshotError(`no leakbook snapshots in ${inputs.join(" ")}${skipped.length ? ` (${skipped.length} unreadable files)` : ""}`);
  }
  return { processes, skipped };
}

/** "host:pid", or "pid" alone when the host is unknown: how a process is named in text. */
export function processLabel(p: { host: string; pid: number }): string {
  return p.host ? `${p.host}:${p.pid}` : String(p.pid);
}
