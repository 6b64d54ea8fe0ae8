// A series of snapshots of one process: loading and ordering them, per-type figures over time, and matching
// objects across snapshots (survivors by address and type, holders by retention path). Rules: docs/analysis.md.
import type { Dirent } from "node:fs";
import { readdir, stat } from "node:fs/promises";
import { basename, join } from "node:path";
import { SnapshotError } from "../common/errors.js";
import { loadSnapshot, type LoadOptions } from "./load.js";
import { NONE, type Snapshot } from "./snapshot.js";
import { addressLookup, edgeLabel, hashAddress, type RetentionPath } from "./paths.js";
import { formatTime } from "../common/units.js";
import { terminalText } from "../common/escape.js";
import { entryKind, openProblem, openRegularFile } from "./regular-file.js";

export interface Series {
  /** Ordered by capture time (meta.time_unix), oldest first. */
  snapshots: Snapshot[];
  warnings: string[];
}

export interface SeriesOptions {
  /** Progress over the whole series: `file` is the 0-based position of the file being read. */
  onProgress?: (file: number, files: number, done: number, total: number) => void;
  /** Keep only the snapshots of the process with this pid (the input may hold several). */
  pid?: number;
  /** Load snapshots of several processes (with a warning) instead of refusing them; ignored when `pid` is given. */
  allowMixedProcesses?: boolean;
  /** Each snapshot is to be analysed: see LoadOptions.forAnalysis. */
  forAnalysis?: boolean;
}

const EXTENSION = ".lbsnap";

const MAGIC = "LEAKBOOK";
/** Notes already written to stderr: each is said once per process, however often a directory is listed. */
const noted = new Set<string>();

function noteOnce(message: string): void {
  if (noted.has(message)) return;
  noted.add(message);
  process.stderr.write(`leakbook: ${terminalText(message)}\n`);
}

/** Whether a regular file starts with the lbsnap magic (8 bytes read; false for anything unreadable). */
async function hasSnapshotMagic(path: string): Promise<boolean> {
  let file;
  try {
    file = await openRegularFile(path);
  } catch {
    return false;
  }
  try {
    const head = new Uint8Array(MAGIC.length);
    const { bytesRead } = await file.handle.read(head, 0, head.length, 0);
    return bytesRead === head.length && new TextDecoder().decode(head) === MAGIC;
  } catch {
    return false;
  } finally {
    await file.handle.close();
  }
}

/** Why a directory entry cannot be read as a snapshot (a FIFO, a directory, a symbolic link loop ...), or null. */
async function notAFile(path: string, entry: Dirent): Promise<string | null> {
  if (entry.isFile()) return null;
  try {
    const info = await stat(path); // follows a symbolic link to what it names
    return info.isFile() ? null : `${entryKind(info)}, not a regular file`;
  } catch (error) {
    return openProblem(error);
  }
}

/** Whether a directory entry is a snapshot: an .lbsnap name, or a regular file (not a `.partial` capture being
 * written) that starts with the lbsnap magic. */
async function isSnapshotEntry(directory: string, entry: Dirent): Promise<boolean> {
  if (entry.name.endsWith(EXTENSION)) return true;
  return entry.isFile() && !entry.name.endsWith(".partial") && await hasSnapshotMagic(join(directory, entry.name));
}

/**
 * A directory's snapshot files, by name: its .lbsnap files and any other regular file that starts with the lbsnap
 * magic (a snapshot saved under another name; said once on stderr). `.partial` files (captures being written) are
 * left out, and so are entries that are no regular file (a FIFO, a directory, a symbolic link loop: said once on
 * stderr), which could only block or fail the reader. A SnapshotError when there are none, naming the subfolders
 * that hold some.
 */
export async function snapshotFiles(directory: string): Promise<string[]> {
  let entries: Dirent[];
  try {
    entries = await readdir(directory, { withFileTypes: true });
  } catch (error) {
    throw new SnapshotError(`${directory}: cannot list it (${openProblem(error)})`);
  }
  const names: string[] = [];
  for (const entry of entries) {
    const name = entry.name;
    const path = join(directory, name);
    if (name.endsWith(EXTENSION)) {
      const problem = await notAFile(path, entry);
      if (problem) noteOnce(`skipped ${path}: ${problem}`);
      else names.push(name);
    } else if (entry.isFile() && !name.endsWith(".partial") && await hasSnapshotMagic(path)) {
      noteOnce(`${path} has no ${EXTENSION} extension; read as a snapshot`);
      names.push(name);
    }
  }
  names.sort();
  if (names.length === 0) throw new SnapshotError(await noSnapshotsMessage(directory, entries.length === 0));
  return names.map((n) => join(directory, n));
}

/** Subfolders named in the message about a folder of folders; the rest are counted. */
const SUBFOLDERS_NAMED = 5;

async function noSnapshotsMessage(directory: string, empty: boolean): Promise<string> {
  if (empty) return `${directory}: empty directory (no ${EXTENSION} files)`;
  const holding = await subfoldersWithSnapshots(directory);
  if (holding.length === 0) return `${directory}: no snapshots in this directory or its subfolders (no ${EXTENSION} files)`;
  const named = holding.slice(0, SUBFOLDERS_NAMED).map((name) => `${name}/`).join(", ");
  const more = holding.length > SUBFOLDERS_NAMED ? ` and ${holding.length - SUBFOLDERS_NAMED} more` : "";
  const which = holding.length === 1 ? `its subfolder ${named} does: pass it` : `its subfolders ${named}${more} do: pass one of them`;
  return `${directory.endsWith("/") ? directory : directory + "/"} holds no snapshots; ${which}`;
}

/** The subfolders of `directory` (one level down, by name, sorted) that hold snapshots of their own. */
export async function subfoldersWithSnapshots(directory: string): Promise<string[]> {
  const holding: string[] = [];
  for (const entry of await readdir(directory, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const subfolder = join(directory, entry.name);
    const inside = await readdir(subfolder, { withFileTypes: true }).catch(() => []);
    for (const item of inside) {
      if (await isSnapshotEntry(subfolder, item)) {
        holding.push(entry.name);
        break;
      }
    }
  }
  return holding.sort();
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false; // loadSnapshot reports a missing file with its own message
  }
}

/** What a file's header says about its capture, read without reading any section. */
export interface HeaderMeta {
  time_unix?: unknown;
  pid?: unknown;
  process_start?: unknown;
  hostname?: unknown;
  options?: unknown;
}

/** The header's `meta` object, or null when the file has no readable lbsnap header (a meliae dump, a damaged file). */
export async function readHeaderMeta(path: string): Promise<HeaderMeta | null> {
  let file, size;
  try {
    ({ handle: file, size } = await openRegularFile(path));
  } catch {
    return null; // loadSnapshot reports a missing or unreadable file with its own message
  }
  try {
    const preamble = new Uint8Array(16);
    const { bytesRead } = await file.read(preamble, 0, 16, 0);
    if (bytesRead < 16 || new TextDecoder().decode(preamble.subarray(0, 8)) !== "LEAKBOOK") return null;
    const headerLength = new DataView(preamble.buffer).getUint32(12, true);
    if (headerLength > 0 && headerLength < Math.min(size - 16, 64 * 1024 * 1024)) {
      const header = new Uint8Array(headerLength);
      await file.read(header, 0, headerLength, 16);
      const meta = JSON.parse(new TextDecoder().decode(header))?.meta;
      if (meta !== null && typeof meta === "object") return meta as HeaderMeta;
    }
  } catch {
    // fall through: an unreadable header is reported when the file is loaded
  } finally {
    await file.close();
  }
  return null;
}

/** Capture time from a file's header alone (cheap: no sections are read); the modification time otherwise. */
async function captureTime(path: string): Promise<number> {
  const time = (await readHeaderMeta(path))?.time_unix;
  return typeof time === "number" ? time : (await stat(path)).mtimeMs / 1000;
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

/** One process's snapshots in an input: a process is a (pid, process_start) pair, since pids are reused. */
export interface SeriesProcess {
  pid: number;
  /** Seconds since the epoch (0 when unknown, as for meliae dumps). */
  process_start: number;
  /** Its files, oldest capture first, and their capture times (seconds since the epoch). */
  files: string[];
  times: number[];
}

/** A file's capture as far as telling processes apart needs. */
interface Capture {
  file: string;
  pid: number;
  process_start: number;
  time: number;
}

/** Captures grouped by process, each group oldest first; groups in order of their first capture. */
function groupByProcess(captures: Capture[]): SeriesProcess[] {
  const groups = new Map<string, SeriesProcess>();
  const ordered = [...captures].sort((a, b) => a.time - b.time);
  for (const c of ordered) {
    const key = `${c.pid}/${c.process_start}`;
    let group = groups.get(key);
    if (!group) {
      group = { pid: c.pid, process_start: c.process_start, files: [], times: [] };
      groups.set(key, group);
    }
    group.files.push(c.file);
    group.times.push(c.time);
  }
  return [...groups.values()];
}

/** The header's capture facts (missing ones 0, as the loader reads them), or null when there is no readable header. */
async function headerCapture(file: string): Promise<Capture | null> {
  const meta = await readHeaderMeta(file);
  if (meta === null) return null;
  return {
    file,
    pid: typeof meta.pid === "number" ? meta.pid : 0,
    process_start: typeof meta.process_start === "number" ? meta.process_start : 0,
    time: typeof meta.time_unix === "number" ? meta.time_unix : 0,
  };
}

function snapshotCapture(snap: Snapshot, file: string): Capture {
  return { file, pid: snap.meta.pid, process_start: snap.meta.process_start, time: snap.meta.time_unix };
}

/** The processes whose snapshots a directory or list of files holds, from the headers alone (unreadable files are left out). */
export async function seriesProcesses(input: string | string[]): Promise<SeriesProcess[]> {
  const captures: Capture[] = [];
  for (const file of await inputFiles(input)) {
    const capture = await headerCapture(file);
    if (capture) captures.push(capture);
  }
  return groupByProcess(captures);
}

/** "pid 41 started 2026-…Z (3 snapshots: a.lbsnap, b.lbsnap, c.lbsnap)", with only the first file past three. */
function describeProcess(p: SeriesProcess): string {
  const names = p.files.map((f) => basename(f));
  const files = names.length <= 3 ? names.join(", ") : `first ${names[0]}`;
  return `pid ${p.pid} started ${formatTime(p.process_start)} (${p.files.length} snapshot${p.files.length === 1 ? "" : "s"}: ${files})`;
}

/**
 * The input does not name one process: it holds snapshots of several and no pid chose one ("mixed-processes"),
 * or the pid asked for is none of them ("unknown-pid"). `processes` lists those the input holds.
 */
export class ProcessSelectionError extends SnapshotError {
  constructor(
    readonly kind: "mixed-processes" | "unknown-pid",
    readonly processes: SeriesProcess[],
    message: string,
  ) {
    super(message);
    this.name = "ProcessSelectionError";
  }

  /** The error as the CLI's `--json` output shows it. */
  toJSON(): object {
    return {
      kind: this.kind,
      message: this.message,
      processes: this.processes.map((p) => ({ pid: p.pid, process_start: p.process_start, files: p.files })),
    };
  }
}

/** The one process to analyse: the only one, or the one `pid` names; a ProcessSelectionError otherwise. */
function chooseProcess(processes: SeriesProcess[], pid: number | undefined): SeriesProcess {
  const list = processes.map(describeProcess).join("; ");
  const candidates = pid === undefined ? processes : processes.filter((p) => p.pid === pid);
  if (candidates.length === 0) {
    throw new ProcessSelectionError("unknown-pid", processes, `no snapshot of pid ${pid} in the input; it holds ${list}`);
  }
  if (candidates.length > 1) {
    // The same pid twice means the pid was reused: only the files tell those processes apart.
    const reused = new Set(candidates.map((p) => p.pid)).size < candidates.length;
    const hint = reused ? "a pid repeats (reused by a later process), so name one process's files" : "pick one with --pid PID";
    throw new ProcessSelectionError("mixed-processes", candidates,
      `snapshots of ${candidates.length} processes, which cannot be compared object by object: ${candidates.map(describeProcess).join("; ")}; ${hint}`);
  }
  return candidates[0];
}

/** Every file the input names: a directory's .lbsnap files, files as given. */
async function inputFiles(input: string | string[]): Promise<string[]> {
  const files: string[] = [];
  for (const path of typeof input === "string" ? [input] : input) {
    if (await isDirectory(path)) files.push(...(await snapshotFiles(path)));
    else files.push(path);
  }
  if (files.length === 0) throw new SnapshotError("no snapshot files given");
  return files;
}

/**
 * Loads a directory's .lbsnap files or a list of files, ordered by capture time. The snapshots must come from one
 * process, or `pid` must pick one (ProcessSelectionError otherwise); `allowMixedProcesses` loads them all with a warning.
 */
export async function loadSeries(input: string | string[], opts: SeriesOptions = {}): Promise<Series> {
  const files = await inputFiles(input);
  const loaded = new Map<string, Snapshot>();
  const load = async (file: string) => {
    const k = files.indexOf(file);
    const progress: LoadOptions = {
      onProgress: opts.onProgress && ((done, total) => opts.onProgress!(k, files.length, done, total)),
      forAnalysis: opts.forAnalysis,
    };
    loaded.set(file, await loadSnapshot(file, progress));
  };
  // Headers tell the processes apart before anything is loaded; files without a readable header (meliae dumps,
  // damaged files) have to be loaded to tell, or to report what is wrong with them.
  const captures: Capture[] = [];
  for (const file of files) {
    let capture = await headerCapture(file);
    if (!capture) {
      await load(file);
      capture = snapshotCapture(loaded.get(file)!, file);
    }
    captures.push(capture);
  }
  const processes = groupByProcess(captures);
  const chosen = opts.allowMixedProcesses && opts.pid === undefined ? files : chooseProcess(processes, opts.pid).files;
  for (const file of chosen) if (!loaded.has(file)) await load(file);

  const snapshots = chosen.map((file) => loaded.get(file)!);
  const warnings: string[] = [];
  for (const snap of snapshots) {
    const own = snap.meta.warnings;
    if (Array.isArray(own)) warnings.push(...own.map(String));
  }
  snapshots.sort((a, b) => a.meta.time_unix - b.meta.time_unix || (a.meta.sequence ?? 0) - (b.meta.sequence ?? 0));
  if (processes.length > 1 && chosen === files) {
    warnings.push(`snapshots of ${processes.length} processes (${processes.map(describeProcess).join("; ")}); objects cannot be matched across processes`);
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

const survivorMatches = new WeakMap<Snapshot, WeakMap<Snapshot, Uint32Array>>();

/**
 * For each object of `a`, the index of the object of `b` with the same address and the same type name, or NONE.
 * One lookup per object through an address table (see matchThroughOwnTable); memoised per
 * pair, as several steps of a diagnosis ask for the same one. The result is shared: read it, do not change it.
 */
export function matchSurvivors(a: Snapshot, b: Snapshot): Uint32Array {
  let byB = survivorMatches.get(a);
  if (!byB) survivorMatches.set(a, (byB = new WeakMap()));
  let match = byB.get(b);
  if (!match) byB.set(b, (match = computeMatch(a, b)));
  return match;
}

function computeMatch(a: Snapshot, b: Snapshot): Uint32Array {
  // Type names compared through one id per name (a snapshot may list two types of one name: a class defined twice).
  const nameInB = new Map<string, number>();
  b.types.forEach((name, t) => { if (!nameInB.has(name)) nameInB.set(name, t); });
  const nameOfB = Uint32Array.from(b.types, (name) => nameInB.get(name)!);
  const typeMap = Uint32Array.from(a.types, (name) => nameInB.get(name) ?? NONE);
  const match = new Uint32Array(a.objectCount).fill(NONE);
  if (matchInWalkOrder(a, b, typeMap, nameOfB, match)) return match;
  match.fill(NONE);
  // The agent walks a heap in much the same order each time, so survivors come in runs: the object after the
  // last one found is tried before the address table (exact when no address repeats in b).
  const { find, unique } = addressLookup(b);
  let next = 0;
  for (let i = 0; i < a.objectCount; i++) {
    const address = a.address[i];
    const j = unique && next < b.objectCount && b.address[next] === address ? next : find(address);
    if (j < 0) continue;
    next = j + 1;
    if (typeMap[a.type[i]] === nameOfB[b.type[j]]) match[i] = j;
  }
  return match;
}

/** Objects of a looked at past the one after the last found, for an object of b, before it counts as out of place. */
const WALK_WINDOW = 32;
/** One object of a in this many is in the table that finds the place again after a run of new objects. */
const LANDMARK_STRIDE = 16;
/** A slot of matchInWalkOrder's table whose address was found (no j + 1 reaches it). */
const FOUND = 0xffffffff;

/**
 * The match without an address table of all of a, from b's side (computeMatch falls back to one when this gives
 * up). The agent walks a heap in much the same order each time, so an object of b is looked for in a just after
 * the last one found, among the next few. Past a longer run of objects made since, the walk finds its place again
 * through a small table of every 16th object of a (landmarks). The objects of b found neither way (out of place,
 * or gone) are looked up together in one pass over a with a table of their addresses. Gives up, returning false,
 * when more than a quarter are out of place (snapshots walked in different orders) or when two objects of b land
 * on one of a (an address repeated). An address repeated in a is matched once.
 */
function matchInWalkOrder(a: Snapshot, b: Snapshot, typeMap: Uint32Array, nameOfB: Uint32Array, match: Uint32Array): boolean {
  const taken = new Uint8Array(a.objectCount);
  const pair = (i: number, j: number): boolean => {
    if (taken[i] === 1) return false;
    taken[i] = 1;
    if (typeMap[a.type[i]] === nameOfB[b.type[j]]) match[i] = j;
    return true;
  };
  const landmark = landmarks(a);
  const limit = Math.max(1024, b.objectCount >>> 2);
  const outOfPlace: number[] = [];
  let next = 0;
  for (let j = 0; j < b.objectCount; j++) {
    const address = b.address[j];
    const end = Math.min(next + WALK_WINDOW, a.objectCount);
    let i = next;
    while (i < end && a.address[i] !== address) i++;
    if (i === end) i = landmark(address);
    if (i >= 0 && i < a.objectCount) {
      if (!pair(i, j)) return false;
      next = i + 1;
    } else if (outOfPlace.push(j) > limit) {
      return false;
    }
  }
  if (outOfPlace.length === 0) return true;
  // A table of the out-of-place addresses (slots hold j + 1), then one pass over a: the first object at each. A
  // filter of a few bits of each address (objects are 16-byte aligned) lets nearly all of a skip the table's hash.
  let capacity = 16;
  while (capacity < 2 * outOfPlace.length) capacity *= 2;
  const mask = capacity - 1;
  const slots = new Uint32Array(capacity);
  const filterMask = Math.min(Math.max(4096, 16 * capacity), 1 << 22) - 1;
  const filter = new Uint8Array(filterMask + 1);
  for (const j of outOfPlace) {
    let slot = hashAddress(b.address[j], mask);
    while (slots[slot] !== 0) {
      if (b.address[slots[slot] - 1] === b.address[j]) return false;
      slot = (slot + 1) & mask;
    }
    slots[slot] = j + 1;
    filter[(b.address[j] >>> 4) & filterMask] = 1;
  }
  for (let i = 0; i < a.objectCount; i++) {
    const address = a.address[i];
    if (filter[(address >>> 4) & filterMask] === 0) continue;
    for (let slot = hashAddress(address, mask); slots[slot] !== 0; slot = (slot + 1) & mask) {
      if (slots[slot] === FOUND) continue;
      const j = slots[slot] - 1;
      if (b.address[j] !== address) continue;
      if (!pair(i, j)) return false;
      slots[slot] = FOUND; // the first object of a at the address takes it
      break;
    }
  }
  return true;
}

/** Lookup of the landmarks of a (every LANDMARK_STRIDE-th object) by address: the index, or -1. */
function landmarks(a: Snapshot): (address: number) => number {
  const count = Math.ceil(a.objectCount / LANDMARK_STRIDE);
  let capacity = 16;
  while (capacity < 2 * count) capacity *= 2;
  const mask = capacity - 1;
  const slots = new Uint32Array(capacity); // index + 1
  for (let i = 0; i < a.objectCount; i += LANDMARK_STRIDE) {
    let slot = hashAddress(a.address[i], mask);
    while (slots[slot] !== 0) slot = (slot + 1) & mask;
    slots[slot] = i + 1;
  }
  return (address) => {
    for (let slot = hashAddress(address, mask); slots[slot] !== 0; slot = (slot + 1) & mask) {
      if (a.address[slots[slot] - 1] === address) return slots[slot] - 1;
    }
    return -1;
  };
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
