#!/usr/bin/env node
// The `leakbook` command line: a table of commands, one function each. Bad input is reported as one line on
// stderr starting "leakbook: " with exit code 2, never a stack trace.
import { parseArgs, type ParseArgsConfig } from "node:util";
import { SnapshotError } from "./errors.js";
import { DIAGNOSIS_COMMANDS } from "./commands/index.js";
import { loadSnapshot } from "./load.js";
import { latestSnapshotPath } from "./series.js";
import { graphOf } from "./analysis-cache.js";
import { retainedByType, type HeapGraph } from "./graph.js";
import { cycles, type CycleRow } from "./queries/cycles.js";
import { findObject, shortestPaths } from "./paths.js";
import { ROOT_UNREACHABLE, type Snapshot } from "./snapshot.js";
import { formatAddress, formatBytes, formatCount, formatDuration } from "./units.js";

/** Bad arguments: reported like a bad file, with the command's usage hint. */
class UsageError extends Error {}

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
FILE is an .lbsnap file or a meliae dump; DIR means the latest snapshot in that directory.
  --json   machine-readable output: objects, edges, roots, unreachable, memory, types, cycles, timings`,
    run: summaryCommand,
  },
  paths: {
    usage: "leakbook paths FILE|DIR ADDRESS [--k N] [--json]",
    description: "shortest retention paths from the roots to the object at ADDRESS",
    options: { ...JSON_OPTION, k: { type: "string" } },
    help: `Prints the shortest retention paths of one object, each as steps and as a Python expression
that evaluates to the object in the live process. ADDRESS is id(obj), decimal or 0x hex.
  --k N    how many distinct shortest paths (default 3)
  --json   {"paths": [{"expr": "...", "steps": [...]}]}`,
    run: pathsCommand,
  },
  ...DIAGNOSIS_COMMANDS,
};

function programHelp(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((n) => n.length));
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.description}`);
  return `leakbook: find memory leaks in Python heap snapshots

Usage: leakbook COMMAND [options]   (leakbook COMMAND --help for details)

Commands:
${lines.join("\n")}
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

/** Loads FILE, or the latest snapshot of DIR, showing progress only when stderr is a terminal. */
async function loadInput(input: string): Promise<{ snap: Snapshot; loadMs: number }> {
  const path = await latestSnapshotPath(input);
  const interactive = process.stderr.isTTY === true;
  const started = performance.now();
  const snap = await loadSnapshot(path, {
    onProgress: interactive ? (done, total) => process.stderr.write(`\rloading ${path}: ${Math.floor((100 * done) / total)}%`) : undefined,
  });
  if (interactive) process.stderr.write("\r\x1b[K");
  for (const warning of (snap.meta.warnings as string[] | undefined) ?? []) process.stderr.write(`leakbook: warning: ${warning}\n`);
  return { snap, loadMs: performance.now() - started };
}

function runAnalysis(snap: Snapshot): { graph: HeapGraph; ms: number } {
  const interactive = process.stderr.isTTY === true;
  const started = performance.now();
  const graph = graphOf(snap, {
    onProgress: interactive ? (phase, done, total) => process.stderr.write(`\r\x1b[K${phase}: ${Math.floor((100 * done) / Math.max(total, 1))}%`) : undefined,
  });
  if (interactive) process.stderr.write("\r\x1b[K");
  return { graph, ms: performance.now() - started };
}

const round = (ms: number) => Math.round(ms * 10) / 10;

async function summaryCommand(positionals: string[], values: Record<string, string | boolean | undefined>): Promise<void> {
  expectPositionals(positionals, ["FILE"], COMMANDS.summary.usage);
  const { snap, loadMs } = await loadInput(positionals[0]);
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
    };
    process.stdout.write(JSON.stringify(report, null, 1) + "\n");
    return;
  }

  const out: string[] = [];
  out.push(`${snap.source}  (${snap.format}${snap.meta.time ? `, captured ${snap.meta.time}` : ""}${snap.meta.pid ? `, pid ${snap.meta.pid}` : ""}${snap.meta.python ? `, Python ${snap.meta.python.version}` : ""})`);
  out.push("");
  out.push(`objects      ${formatCount(snap.objectCount)}  (${formatBytes(shallowTotal)} shallow)`);
  out.push(`references   ${formatCount(snap.edgeCount)}`);
  out.push(`roots        ${formatCount(snap.rootObject.length)}  (${Object.entries(rootKinds).map(([k, n]) => `${n} ${k}`).join(", ")})`);
  out.push(`unreachable  ${formatCount(graph.unreachable.length)}  (${formatBytes(unreachableBytes)})`);
  const m = snap.memory;
  if (m.rss !== null) out.push(`process RSS  ${formatBytes(m.rss)}${m.rss_peak !== null ? `  (peak ${formatBytes(m.rss_peak)})` : ""}`);
  const pymalloc = m.pymalloc;
  if (pymalloc?.arenas_in_use !== undefined && pymalloc.arena_bytes !== undefined) {
    const blocks = pymalloc.bytes_in_allocated_blocks;
    out.push(`pymalloc     ${formatCount(pymalloc.arenas_in_use)} arenas in use (${formatBytes(pymalloc.arena_bytes)})` +
      (blocks !== undefined ? `, ${formatBytes(blocks)} in allocated blocks` : ""));
  }
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
  out.push("", "Timings  " + Object.entries(timings).map(([k, ms]) => `${k} ${formatDuration(ms)}`).join(", "));
  process.stdout.write(out.join("\n") + "\n");
}

function parseAddress(text: string): number {
  const value = /^0x[0-9a-f]+$/i.test(text) ? parseInt(text.slice(2), 16) : /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(value)) throw new UsageError(`bad ADDRESS '${text}': give id(obj) in decimal or 0x hex`);
  return value;
}

async function pathsCommand(positionals: string[], values: Record<string, string | boolean | undefined>): Promise<void> {
  expectPositionals(positionals, ["FILE", "ADDRESS"], COMMANDS.paths.usage);
  const address = parseAddress(positionals[1]);
  const k = values.k === undefined ? 3 : Number(values.k);
  if (!Number.isInteger(k) || k < 1) throw new UsageError(`bad --k '${values.k}': give a whole number >= 1`);
  const { snap } = await loadInput(positionals[0]);
  const object = findObject(snap, address);
  if (object < 0) throw new SnapshotError(`no object at address ${formatAddress(address)} (${address}) in ${snap.source}`);
  const { graph } = runAnalysis(snap);
  const paths = shortestPaths(graph, object, { k });
  const type = snap.types[snap.type[object]];
  const unreachable = paths.length > 0 && paths[0].rootKind === ROOT_UNREACHABLE;

  if (values.json) {
    process.stdout.write(JSON.stringify({ address, type, paths: paths.map((p) => ({ expr: p.expr, root: p.root, steps: p.steps })) }, null, 1) + "\n");
    return;
  }
  const out = [`${type} at ${formatAddress(address)}: ${paths.length} shortest retention path${paths.length === 1 ? "" : "s"}${unreachable ? " (unreachable from every root)" : ""}`];
  paths.forEach((p, n) => {
    out.push("", `#${n + 1}  ${p.expr}`);
    for (const step of p.steps) {
      out.push(`      ${step.label.padEnd(32)}  ${step.type} ${formatAddress(step.address)}${step.evaluable ? "" : "  (not evaluable)"}`);
    }
  });
  process.stdout.write(out.join("\n") + "\n");
}

main(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof SnapshotError || error instanceof UsageError) {
    process.stderr.write(`leakbook: ${error.message}\n`);
    process.exitCode = 2;
  } else {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`leakbook: internal error: ${message.split("\n")[0]}${process.env.LEAKBOOK_DEBUG ? "\n" + (error as Error).stack : " (set LEAKBOOK_DEBUG=1 for details)"}\n`);
    process.exitCode = 1;
  }
});
