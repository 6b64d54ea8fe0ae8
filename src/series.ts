// A series of snapshots of one process: loading and ordering them, per-type figures over time, and matching
// objects across snapshots (survivors by address and type, holders by retention path). Rules: docs/analysis.md.
import { open, readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { SnapshotError } from "./errors.js";
import { loadSnapshot, type LoadOptions } from "./load.js";
import { NONE, type Snapshot } from "./snapshot.js";
import { edgeLabel, findObject, type RetentionPath } from "./paths.js";

export interface Series {
  /** Ordered by capture time (meta.time_unix), oldest first. */
  snapshots: Snapshot[];
  warnings: string[];
}

export interface SeriesOptions {
  /** Progress over the whole series: `file` is the 0-based position of the file being read. */
  onProgress?: (file: number, files: number, done: number, total: number) => void;
}

const EXTENSION = ".lbsnap";

/** The .lbsnap files of a directory, by name; a SnapshotError when there are none. */
export async function snapshotFiles(directory: string): Promise<string[]> {
  const names = (await readdir(directory)).filter((n) => n.endsWith(EXTENSION)).sort();
  if (names.length === 0) throw new SnapshotError(`${directory}: empty directory (no ${EXTENSION} files)`);
  return names.map((n) => join(directory, n));
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false; // loadSnapshot reports a missing file with its own message
  }
}

/** Capture time from a file's header alone (cheap: no sections are read); the modification time otherwise. */
async function captureTime(path: string): Promise<number> {
  const file = await open(path, "r");
  try {
    const preamble = new Uint8Array(16);
    await file.read(preamble, 0, 16, 0);
    const headerLength = new DataView(preamble.buffer).getUint32(12, true);
    if (headerLength > 0 && headerLength < 64 * 1024 * 1024) {
      const header = new Uint8Array(headerLength);
      await file.read(header, 0, headerLength, 16);
      const time = JSON.parse(new TextDecoder().decode(header))?.meta?.time_unix;
      if (typeof time === "number") return time;
    }
  } catch {
    // fall through: an unreadable header is reported when the file is loaded
  } finally {
    await file.close();
  }
  return (await stat(path)).mtimeMs / 1000;
}

/** The path itself for a file; the most recently captured snapshot for a directory. */
export async function latestSnapshotPath(path: string): Promise<string> {
  if (!(await isDirectory(path))) return path;
  const files = await snapshotFiles(path);
  let best = files[0];
  let bestTime = -Infinity;
  for (const file of files) {
    const time = await captureTime(file);
    if (time >= bestTime) {
      best = file;
      bestTime = time;
    }
  }
  return best;
}

/** Loads a directory's .lbsnap files or a list of files, ordered by capture time, warning about mixed processes. */
export async function loadSeries(input: string | string[], opts: SeriesOptions = {}): Promise<Series> {
  const files: string[] = [];
  for (const path of typeof input === "string" ? [input] : input) {
    if (await isDirectory(path)) files.push(...(await snapshotFiles(path)));
    else files.push(path);
  }
  if (files.length === 0) throw new SnapshotError("no snapshot files given");
  const snapshots: Snapshot[] = [];
  const warnings: string[] = [];
  for (let k = 0; k < files.length; k++) {
    const load: LoadOptions = { onProgress: opts.onProgress && ((done, total) => opts.onProgress!(k, files.length, done, total)) };
    const snap = await loadSnapshot(files[k], load);
    snapshots.push(snap);
    const own = snap.meta.warnings;
    if (Array.isArray(own)) warnings.push(...own.map(String));
  }
  snapshots.sort((a, b) => a.meta.time_unix - b.meta.time_unix || (a.meta.sequence ?? 0) - (b.meta.sequence ?? 0));
  const first = snapshots[0];
  for (const snap of snapshots.slice(1)) {
    if (snap.meta.pid !== first.meta.pid || snap.meta.process_start !== first.meta.process_start) {
      warnings.push(`${snap.source}: from another process (pid ${snap.meta.pid}, started ${snap.meta.process_start}) than ` +
        `${first.source} (pid ${first.meta.pid}, started ${first.meta.process_start}); objects cannot be matched across processes`);
    }
  }
  return { snapshots, warnings };
}

export interface TypeSeries {
  /** Capture time of each snapshot (seconds since the epoch). */
  times: number[];
  /** One entry per type seen in any snapshot; counts[k] and bytes[k] belong to snapshot k (0 when absent). */
  types: { type: string; counts: number[]; bytes: number[] }[];
}

/** Per-type object counts and shallow bytes in each snapshot (census snapshots contribute their census). */
export function typeSeries(series: Series): TypeSeries {
  const n = series.snapshots.length;
  const byName = new Map<string, { type: string; counts: number[]; bytes: number[] }>();
  const row = (type: string) => {
    let entry = byName.get(type);
    if (!entry) {
      entry = { type, counts: new Array(n).fill(0), bytes: new Array(n).fill(0) };
      byName.set(type, entry);
    }
    return entry;
  };
  series.snapshots.forEach((snap, k) => {
    if (snap.kind === "census" && snap.census) {
      for (const [type, [count, bytes]] of Object.entries(snap.census.types)) {
        const entry = row(type);
        entry.counts[k] += count;
        entry.bytes[k] += bytes;
      }
      return;
    }
    const counts = new Float64Array(snap.types.length);
    const bytes = new Float64Array(snap.types.length);
    for (let i = 0; i < snap.objectCount; i++) {
      counts[snap.type[i]]++;
      bytes[snap.type[i]] += snap.size[i];
    }
    snap.types.forEach((type, t) => {
      if (counts[t] === 0) return;
      const entry = row(type);
      entry.counts[k] += counts[t];
      entry.bytes[k] += bytes[t];
    });
  });
  return { times: series.snapshots.map((s) => s.meta.time_unix), types: [...byName.values()] };
}

/**
 * For each object of `a`, the index of the object of `b` with the same address and the same type name, or NONE.
 * One lookup per object in `b`'s address table (built once per snapshot and shared with findObject).
 */
export function matchSurvivors(a: Snapshot, b: Snapshot): Uint32Array {
  const typeInB = new Map(b.types.map((name, t) => [name, t]));
  const typeMap = Uint32Array.from(a.types, (name) => typeInB.get(name) ?? NONE);
  const match = new Uint32Array(a.objectCount).fill(NONE);
  for (let i = 0; i < a.objectCount; i++) {
    const j = findObject(b, a.address[i]);
    if (j >= 0 && typeMap[a.type[i]] === b.type[j]) match[i] = j;
  }
  return match;
}

/**
 * The object of `snap` reached by following a retention path found in another snapshot: the same root
 * expression, then at each step an edge with the same label and target type. Returns NONE when the path
 * does not exist in `snap`. This is how a holder (a cache dict, a registry list) is matched across snapshots.
 */
export function followPath(snap: Snapshot, path: RetentionPath): number {
  const [first, ...rest] = path.steps;
  if (!first) return NONE;
  for (let r = 0; r < snap.rootObject.length; r++) {
    const root = snap.rootObject[r];
    if (snap.rootLabel[r] === NONE || snap.strings.get(snap.rootLabel[r]) !== first.label) continue;
    if (snap.types[snap.type[root]] !== first.type) continue;
    let current = root;
    for (const step of rest) {
      let next = NONE;
      for (let e = snap.edgeStart[current]; e < snap.edgeStart[current + 1]; e++) {
        const target = snap.edgeTarget[e];
        if (snap.types[snap.type[target]] === step.type && edgeLabel(snap, e) === step.label) {
          next = target;
          break;
        }
      }
      current = next;
      if (current === NONE) break;
    }
    if (current !== NONE) return current;
  }
  return NONE;
}
