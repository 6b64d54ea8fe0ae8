// `leakbook summary`: one snapshot's counts, roots, memory, top types, largest cycles and timings, and the
// processes a folder holds.
import { UsageError } from "./arguments.js";
import { COMMANDS, type OptionValues } from "./commands.js";
import { censusSummary, memoryLines, titleLine } from "./census-summary.js";
import { loadInput, runAnalysis } from "./one-snapshot.js";
import { printJson, textLines } from "./output.js";
import { seriesProcesses, type SeriesProcess } from "../engine/series.js";
import { retainedByType } from "../engine/graph.js";
import type { Snapshot } from "../engine/snapshot.js";
import { cycles, type CycleRow } from "../queries/cycles.js";
import { formatBytes, formatCount, formatDuration, formatTime } from "../common/units.js";

function expectPositionals(positionals: string[], names: string[], usage: string): void {
  if (positionals.length < names.length) throw new UsageError(`missing ${names[positionals.length]} (usage: ${usage})`);
  if (positionals.length > names.length) throw new UsageError(`unexpected argument '${positionals[names.length]}' (usage: ${usage})`);
}

const round = (ms: number) => Math.round(ms * 10) / 10;

export async function summary(positionals: string[], values: OptionValues): Promise<void> {
  expectPositionals(positionals, ["FILE"], COMMANDS.summary.usage);
  const { snap, loadMs } = await loadInput(positionals[0]);
  const processes = await seriesProcesses(positionals[0]);
  if (snap.kind === "census") {
    const processList = processes.length > 1 ? { lines: processLines(positionals[0], processes, snap), json: processes.map((p) => processJson(p, snap)) } : null;
    return censusSummary(snap, values.json === true, processList);
  }
  const { graph, ms: analysisMs } = runAnalysis(snap);
  let started = performance.now();
  const types = retainedByType(graph);
  const typesMs = performance.now() - started;
  started = performance.now();
  // The program's reference cycles: not the ones every interpreter has among modules and classes.
  const largestCycles = cycles(snap, { top: 10, structural: false }).objects() as CycleRow[];
  const cyclesListMs = performance.now() - started;

  let shallowTotal = 0;
  for (let i = 0; i < snap.objectCount; i++) shallowTotal += snap.size[i];
  let unreachableBytes = 0;
  for (const i of graph.unreachable) unreachableBytes += snap.size[i];
  const rootKinds: Record<string, number> = {};
  const ROOT_KIND_NAMES = ["module", "thread", "garbage", "last_exception", "builtins", "other", "unreachable"];
  for (const kind of snap.rootKind) rootKinds[ROOT_KIND_NAMES[kind] ?? "other"] = (rootKinds[ROOT_KIND_NAMES[kind] ?? "other"] ?? 0) + 1;
  const timings: Record<string, number> = {
    load: round(loadMs),
    graph: round(graph.timings.reverse),
    dominators: round(graph.timings.dominators),
    retained: round(graph.timings.retained),
    cycles: round(graph.timings.cycles + cyclesListMs),
    paths: round(graph.timings.paths),
    types: round(typesMs),
    analysis: round(analysisMs),
    total: round(loadMs + analysisMs + typesMs + cyclesListMs),
  };
  const cycleRows = largestCycles.map((c) => ({
    members: c.members, shallow: c.shallow_bytes, retained: c.retained_bytes,
    entry: { address: c.entry_address, type: c.entry_type }, types: c.types, path: c.path,
  }));

  if (values.json) {
    const report = {
      file: snap.source, format: snap.format, kind: snap.kind,
      captured: snap.meta.time || null, pid: snap.meta.pid, python: snap.meta.python?.version ?? null,
      objects: snap.objectCount, edges: snap.edgeCount,
      roots: { count: snap.rootObject.length, kinds: rootKinds },
      unreachable: { count: graph.unreachable.length, bytes: unreachableBytes },
      memory: { shallow_total: shallowTotal, rss: snap.memory.rss, rss_peak: snap.memory.rss_peak, pymalloc: snap.memory.pymalloc, tracemalloc: snap.memory.tracemalloc },
      types, cycles: cycleRows, timings,
      ...(processes.length > 1 ? { processes: processes.map((p) => processJson(p, snap)) } : {}),
    };
    printJson(report);
    return;
  }

  const out: string[] = [];
  out.push(titleLine(snap));
  out.push("");
  out.push(`objects      ${formatCount(snap.objectCount)}  (${formatBytes(shallowTotal)} shallow)`);
  out.push(`references   ${formatCount(snap.edgeCount)}`);
  out.push(`roots        ${formatCount(snap.rootObject.length)}  (${Object.entries(rootKinds).map(([k, n]) => `${n} ${k}`).join(", ")})`);
  out.push(`unreachable  ${formatCount(graph.unreachable.length)}  (${formatBytes(unreachableBytes)})`);
  out.push(...memoryLines(snap));
  const table = (title: string, rows: typeof types) => {
    out.push("", title);
    const width = Math.min(48, Math.max(4, ...rows.map((r) => r.type.length)));
    out.push(`  ${"type".padEnd(width)}  ${"count".padStart(12)}  ${"shallow".padStart(10)}  ${"retained".padStart(10)}`);
    for (const r of rows) {
      out.push(`  ${r.type.slice(0, width).padEnd(width)}  ${formatCount(r.count).padStart(12)}  ${formatBytes(r.shallow).padStart(10)}  ${formatBytes(r.retained).padStart(10)}`);
    }
  };
  table("Top types by retained size", [...types].sort((a, b) => b.retained - a.retained).slice(0, 10));
  table("Top types by count", [...types].sort((a, b) => b.count - a.count).slice(0, 10));
  table("Top types by shallow size", [...types].sort((a, b) => b.shallow - a.shallow).slice(0, 10));
  out.push("", "Largest cycles");
  if (cycleRows.length === 0) out.push("  none");
  for (const c of cycleRows) {
    out.push(`  ${formatCount(c.members)} objects, ${formatBytes(c.retained)} retained: ${c.types}`);
    out.push(`      held by ${c.path ?? "(no path from a root)"}`);
  }
  if (processes.length > 1) out.push("", ...processLines(positionals[0], processes, snap));
  out.push("", "Timings  " + Object.entries(timings).map(([k, ms]) => `${k} ${formatDuration(ms)}`).join(", "));
  process.stdout.write(textLines(out));
}

/** Whether `snap` is one of process `p`'s snapshots. */
const isOf = (p: SeriesProcess, snap: Snapshot) => p.pid === snap.meta.pid && p.process_start === snap.meta.process_start;

function processJson(p: SeriesProcess, snap: Snapshot): object {
  return {
    pid: p.pid, process_start: p.process_start, started: formatTime(p.process_start), snapshots: p.files.length,
    first_capture: formatTime(p.times[0]), last_capture: formatTime(p.times[p.times.length - 1]), summarized: isOf(p, snap),
  };
}

/** "Processes in DIR" and one line per process, the summarized snapshot's process marked. */
function processLines(dir: string, processes: SeriesProcess[], snap: Snapshot): string[] {
  const out = [`Processes in ${dir}  (a diagnosis needs one: --pid PID)`];
  for (const p of processes) {
    const n = p.files.length;
    out.push(`  pid ${String(p.pid).padEnd(7)}  started ${formatTime(p.process_start)}  ${formatCount(n)} snapshot${n === 1 ? " " : "s"}  ` +
      `${formatTime(p.times[0])} .. ${formatTime(p.times[n - 1])}${isOf(p, snap) ? "  (summarized above)" : ""}`);
  }
  return out;
}
