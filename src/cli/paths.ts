// `leakbook paths`: how an object is kept alive, as shortest retention paths written as Python expressions. The
// object is named by its address, or found as one of the newest instances of a type (--type).
import { basename } from "node:path";
import { SnapshotError } from "../common/errors.js";
import type { HeapGraph } from "../engine/graph.js";
import { findObject, shortestPaths, type RetentionPath } from "../engine/paths.js";
import { typeIds } from "../queries/input.js";
import { matchSurvivors, seriesProcesses } from "../engine/series.js";
import { NONE, ROOT_UNREACHABLE, type Snapshot } from "../engine/snapshot.js";
import { formatAddress, formatBytes, formatCount } from "../common/units.js";
import { UsageError } from "./arguments.js";
import { COMMANDS, PATHS_DEFAULTS, type OptionValues } from "./commands.js";
import { loadFile, loadInput, runAnalysis, wholeOption } from "./one-snapshot.js";
import { printJson, textLines } from "./output.js";

/** Type names suggested when --type matches none. */
const SIMILAR_TYPES = 5;

export async function paths(positionals: string[], values: OptionValues): Promise<void> {
  const usage = COMMANDS.paths.usage;
  if (positionals.length === 0) throw new UsageError(`missing FILE (usage: ${usage})`);
  if (positionals.length > 2) throw new UsageError(`unexpected argument '${positionals[2]}' (usage: ${usage})`);
  const type = values.type;
  if (type !== undefined && positionals.length === 2) throw new UsageError(`give ADDRESS or --type, not both (usage: ${usage})`);
  if (type === undefined && positionals.length === 1) throw new UsageError(`missing ADDRESS or --type TYPE (usage: ${usage})`);
  if (type === undefined && values.top !== undefined) throw new UsageError(`--top goes with --type (usage: ${usage})`);
  if (typeof type === "string") {
    if (type.trim() === "") throw new UsageError(`bad --type '': give a type name such as app.User or User`);
    await typePaths(positionals[0], type, wholeOption(values, "top", PATHS_DEFAULTS.top), wholeOption(values, "k", PATHS_DEFAULTS.kType), values.json === true);
  } else {
    await addressPaths(positionals[0], parseAddress(positionals[1]), wholeOption(values, "k", PATHS_DEFAULTS.kAddress), values.json === true);
  }
}

function parseAddress(text: string): number {
  const value = /^0x[0-9a-f]+$/i.test(text) ? parseInt(text.slice(2), 16) : /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(value)) throw new UsageError(`bad ADDRESS '${text}': give id(obj) in decimal or 0x hex`);
  return value;
}

async function addressPaths(input: string, address: number, k: number, json: boolean): Promise<void> {
  const { snap } = await loadInput(input);
  requireObjects(snap);
  const object = findObject(snap, address);
  if (object < 0) throw new SnapshotError(`no object at address ${formatAddress(address)} (${address}) in ${snap.source}`);
  const { graph } = runAnalysis(snap);
  const paths = shortestPaths(graph, object, { k });
  const type = snap.types[snap.type[object]];

  if (json) {
    printJson({ address, type, paths: paths.map(pathJson) });
    return;
  }
  const out = [`${type} at ${formatAddress(address)}: ${paths.length} shortest retention path${paths.length === 1 ? "" : "s"}${isUnreachable(paths) ? " (unreachable from every root)" : ""}`];
  out.push(...pathLines(paths, ""));
  process.stdout.write(textLines(out));
}

const pathJson = (p: RetentionPath) => ({ expr: p.expr, root: p.root, steps: p.steps });

const isUnreachable = (paths: RetentionPath[]) => paths.length > 0 && paths[0].rootKind === ROOT_UNREACHABLE;

/** Each path as "#n  expression" and then its steps, every line starting with `indent`. */
function pathLines(paths: RetentionPath[], indent: string): string[] {
  const out: string[] = [];
  paths.forEach((p, n) => {
    out.push("", `${indent}#${n + 1}  ${p.expr}`);
    for (const step of p.steps) {
      out.push(`${indent}      ${step.label.padEnd(32)}  ${step.type} ${formatAddress(step.address)}${step.evaluable ? "" : "  (not evaluable)"}`);
    }
  });
  return out;
}

/** The newest instances of a type in one snapshot, with their paths: what `--type` prints. */
interface TypeInstances {
  name: string;
  types: string[];
  snap: Snapshot;
  graph: HeapGraph;
  previous: Snapshot | null;
  count: number;
  newCount: number;
  rows: { object: number; isNew: boolean; paths: RetentionPath[] }[];
}

async function typePaths(input: string, name: string, top: number, k: number, json: boolean): Promise<void> {
  const { snap } = await loadInput(input);
  requireObjects(snap);
  const ids = typeIds(snap, name);
  if (ids.length === 0) throw unknownType(snap, name);
  const previous = await previousSnapshot(input, snap);
  const old = previous ? presentIn(previous, snap) : null;
  const { graph } = runAnalysis(snap);
  const all = instancesOf(snap, ids);
  const isNew = (i: number) => old !== null && old[i] === 0;
  const result: TypeInstances = {
    name, types: ids.map((t) => snap.types[t]), snap, graph, previous, count: all.length, newCount: all.filter(isNew).length,
    rows: newestFirst(graph, all, old).slice(0, top).map((i) => ({ object: i, isNew: isNew(i), paths: shortestPaths(graph, i, { k }) })),
  };
  if (json) printJson(typeInstancesJson(result));
  else process.stdout.write(typeInstancesText(result));
}

function typeInstancesJson({ name, types, snap, graph, previous, rows }: TypeInstances): object {
  return {
    type: name, types, snapshot: snap.source, previous: previous?.source ?? null,
    instances: rows.map(({ object, isNew, paths }) => ({
      address: formatAddress(snap.address[object]), type: snap.types[snap.type[object]], new: isNew,
      shallow_bytes: snap.size[object], retained_bytes: graph.retained[object], unreachable: isUnreachable(paths),
      paths: paths.map(pathJson),
    })),
  };
}

function typeInstancesText({ types, snap, graph, previous, count, newCount, rows }: TypeInstances): string {
  const since = previous
    ? `, ${formatCount(newCount)} new since ${basename(previous.source ?? "")}; the ${rows.length} newest, largest retained first`
    : ` (no earlier snapshot of this process to tell new ones); the ${rows.length} largest retained`;
  const out = [`${types.join(", ")} in ${snap.source}: ${formatCount(count)} instance${count === 1 ? "" : "s"}${since}`];
  rows.forEach(({ object, isNew, paths }, n) => {
    out.push("", `[${n + 1}] ${snap.types[snap.type[object]]} at ${formatAddress(snap.address[object])}${isNew ? "  new" : ""}  ` +
      `${formatBytes(snap.size[object])} shallow, ${formatBytes(graph.retained[object])} retained${isUnreachable(paths) ? "  (unreachable from every root)" : ""}`);
    out.push(...pathLines(paths, "    "));
  });
  return textLines(out);
}

/** A census snapshot has per-type counts only: no object to find a path to. */
function requireObjects(snap: Snapshot): void {
  if (snap.kind !== "full") throw new SnapshotError(`${snap.source}: a census snapshot (per-type counts only) has no objects to find`);
}

/** The error for a type name the snapshot does not have, suggesting names that contain it. */
function unknownType(snap: Snapshot, name: string): SnapshotError {
  const needle = name.toLowerCase();
  const similar = snap.types.filter((t) => t.toLowerCase().includes(needle)).slice(0, SIMILAR_TYPES);
  const hint = similar.length > 0 ? `types containing '${name}': ${similar.join(", ")}` : `no type name contains '${name}'`;
  return new SnapshotError(`no type '${name}' in ${snap.source}; ${hint}`);
}

/**
 * The snapshot the same process captured just before `latest`, when the input is a directory holding one; null
 * otherwise (a single file, the process's first snapshot, or a census that has no objects to compare).
 */
async function previousSnapshot(input: string, latest: Snapshot): Promise<Snapshot | null> {
  const processes = await seriesProcesses(input);
  const own = processes.find((p) => p.pid === latest.meta.pid && p.process_start === latest.meta.process_start);
  const at = own ? own.files.indexOf(latest.source ?? "") : -1;
  if (!own || at < 1) return null;
  const previous = await loadFile(own.files[at - 1]);
  return previous.kind === "full" ? previous : null;
}

/** Per object of `latest`, 1 when `previous` holds an object with its address and type (so it is not new). */
function presentIn(previous: Snapshot, latest: Snapshot): Uint8Array {
  const present = new Uint8Array(latest.objectCount);
  for (const j of matchSurvivors(previous, latest)) if (j !== NONE) present[j] = 1;
  return present;
}

/** Indices of the objects whose type is one of `ids`. */
function instancesOf(snap: Snapshot, ids: number[]): number[] {
  const wanted = new Uint8Array(snap.types.length);
  for (const t of ids) wanted[t] = 1;
  const found: number[] = [];
  for (let i = 0; i < snap.objectCount; i++) if (wanted[snap.type[i]]) found.push(i);
  return found;
}

/** New objects (absent from the previous snapshot) before the others, each group largest retained first. */
function newestFirst(graph: HeapGraph, objects: number[], old: Uint8Array | null): number[] {
  const age = (i: number) => (old ? old[i] : 0);
  return [...objects].sort((a, b) => age(a) - age(b) || graph.retained[b] - graph.retained[a] || a - b);
}
