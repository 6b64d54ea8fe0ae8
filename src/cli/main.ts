#!/usr/bin/env node
// The `leakbook` command line: a table of commands, one function each. Bad input is reported as one line on
// stderr starting "leakbook: " with exit code 2, never a stack trace; an internal error exits 3 (1 is check's "leak").
import { parseArgs, type ParseArgsConfig } from "node:util";
import { DIAGNOSIS_COMMANDS } from "./diagnosis-commands.js";
import { loadInput, runAnalysis, UsageError } from "./one-snapshot.js";
import { pathsCommand } from "./paths.js";
import { seriesProcesses, type SeriesProcess } from "../engine/series.js";
import { retainedByType } from "../engine/graph.js";
import type { Snapshot } from "../engine/snapshot.js";
import { cycles, type CycleRow } from "../queries/cycles.js";
import { formatBytes, formatCount, formatDuration, formatTime } from "../common/units.js";
import { censusSummary, memoryLines, titleLine } from "./census-summary.js";
import { printJson, reportFailure, textLines } from "./output.js";

interface Command {
  usage: string;
  description: string;
  options: NonNullable<ParseArgsConfig["options"]>;
  help: string;
  run(positionals: string[], values: Record<string, string | boolean | undefined>): Promise<void>;
}

const JSON_OPTION = { json: { type: "boolean" as const } };

const COMMANDS: Record<string, Command> = {
  summary: {
    usage: "leakbook summary FILE|DIR [--json]",
    description: "counts, roots, memory, top types by count and size, largest cycles, timings",
    options: JSON_OPTION,
    help: `Loads a snapshot and runs the full analysis (dominators, retained sizes, cycles).
FILE is an .lbsnap file or a meliae dump; DIR means the latest snapshot in that directory. When DIR holds
snapshots of several processes, they are listed (from the files' headers): pid, start, snapshots, first and last.
  --json   machine-readable output: objects, edges, roots, unreachable, memory, types, cycles, timings;
           processes [{pid, process_start, started, snapshots, first_capture, last_capture, summarized}] when several`,
    run: summaryCommand,
  },
  paths: pathsCommand,
  ...DIAGNOSIS_COMMANDS,
};

function programHelp(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((n) => n.length));
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.description}`);
  return `leakbook: find memory leaks in Python heap snapshots

Usage: leakbook COMMAND [options]   (leakbook COMMAND --help for details)

Commands:
${lines.join("\n")}

Exit status: 0 fine, 1 a leak (check only), 2 bad input or usage (a damaged file, a FIFO or device as input,
a report target that is no regular file, too little memory for the input), 3 an internal error.
`;
}

async function main(argv: string[]): Promise<void> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    process.stdout.write(programHelp());
    return;
  }
  const command = COMMANDS[name];
  if (!command) throw new UsageError(`unknown command '${name}' (commands: ${Object.keys(COMMANDS).join(", ")})`);
  if (rest.includes("--help") || rest.includes("-h")) {
    process.stdout.write(`Usage: ${command.usage}\n\n${command.help}\n`);
    return;
  }
  let parsed;
  try {
    parsed = parseArgs({ args: rest, options: command.options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(`${(error as Error).message.split("\n")[0]} (usage: ${command.usage})`);
  }
  await command.run(parsed.positionals, parsed.values as Record<string, string | boolean | undefined>);
}

function expectPositionals(positionals: string[], names: string[], usage: string): void {
  if (positionals.length < names.length) throw new UsageError(`missing ${names[positionals.length]} (usage: ${usage})`);
  if (positionals.length > names.length) throw new UsageError(`unexpected argument '${positionals[names.length]}' (usage: ${usage})`);
}

const round = (ms: number) => Math.round(ms * 10) / 10;

async function summaryCommand(positionals: string[], values: Record<string, string | boolean | undefined>): Promise<void> {
  expectPositionals(positionals, ["FILE"], COMMANDS.summary.usage);
  const { snap, loadMs } = await loadInput(positionals[0]);
  const processes = await seriesProcesses(positionals[0]);
  const processList = processes.length > 1 ? { lines: processLines(positionals[0], processes, snap), json: processes.map((p) => processJson(p, snap)) } : null;
  if (snap.kind === "census") return censusSummary(snap, values.json === true, processList);
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
      ...(processList ? { processes: processList.json } : {}),
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
  if (processList) out.push("", ...processList.lines);
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

main(process.argv.slice(2)).catch((error: unknown) => {
  process.exitCode = reportFailure(error);
});
