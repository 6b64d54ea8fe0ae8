// `leakbook fleet`: one view across the snapshots of many processes (pre-fork workers, pools, many hosts), as text,
// JSON or an HTML report.
import { stat } from "node:fs/promises";
import { SnapshotError } from "../common/errors.js";
import { formatBytes, formatCount } from "../common/units.js";
import type { Fleet } from "../fleet/index.js";
import { writeNewFile } from "./report.js";
import { wholeOption } from "./one-snapshot.js";
import { COMMANDS, type OptionValues } from "./commands.js";
import { printJson } from "./output.js";
import { terminalProgress } from "./progress.js";
import { terminalText } from "../common/escape.js";

type Row = Record<string, unknown>;

/** One line per value on a terminal: host names, paths and type names can hold any text. */
export const oneLine = (value: unknown): string => terminalText(String(value ?? ""));

const rate = (bytesPerHour: unknown) => (typeof bytesPerHour === "number" ? `${bytesPerHour < 0 ? "-" : "+"}${formatBytes(Math.abs(bytesPerHour))}/h` : "-");

/** The fleet as the `--json` contract. */
export function fleetJson(f: Fleet): object {
  const holderPids = new Map<string, Row[]>();
  for (const r of f.holderProcesses.objects() as Row[]) {
    const list = holderPids.get(String(r.path)) ?? [];
    list.push({ host: r.host, pid: r.pid, process_start: r.process_start, finding: r.finding, bytes_per_hour: r.bytes_per_hour });
    holderPids.set(String(r.path), list);
  }
  const processes = f.processes.objects() as Row[];
  return {
    summary: f.summary,
    processes: processes.map((p) => ({
      host: p.host, pid: p.pid, process_start: p.process_start, snapshots: p.snapshots, verdict: p.verdict, leaks: p.leaks,
      error: p.error, hours: p.hours, bytes: p.bytes, objects: p.objects, bytes_per_hour: p.bytes_per_hour,
      objects_per_hour: p.objects_per_hour, rss_bytes: p.rss_bytes, rss_per_hour: p.rss_per_hour,
      rate_score: p.rate_score, size_score: p.size_score, outlier: p.rate_outlier === true || p.size_outlier === true,
    })),
    leaking: processes.filter((p) => p.leaks).map((p) => ({ host: p.host, pid: p.pid, process_start: p.process_start })),
    outliers: processes.filter((p) => p.rate_outlier || p.size_outlier)
      .map((p) => ({ host: p.host, pid: p.pid, process_start: p.process_start, rate_score: p.rate_score, size_score: p.size_score })),
    holders: (f.holders.objects() as Row[]).map((h) => ({ ...h, in: holderPids.get(String(h.path)) ?? [] })),
    types: f.types.objects(),
    merged_census: f.mergedCensus.objects(),
    skipped: f.skipped,
    workers: f.workers,
    tables: f.tablesDir,
  };
}

export function renderFleetText(f: Fleet, source: string): string {
  const processes = f.processes.objects() as Row[];
  const out = [`leakbook fleet: ${processes.length} processes from ${oneLine(source)}`, oneLine(f.summary), "", "Processes"];
  const width = Math.max(7, ...processes.map((p) => oneLine(p.label).length));
  out.push(`  ${"process".padEnd(width)}  ${"snaps".padStart(5)}  ${"verdict".padEnd(24)}  ${"objects".padStart(10)}  ${"bytes".padStart(10)}  ${"growth".padStart(12)}  ${"RSS growth".padStart(12)}  outlier`);
  for (const p of processes) {
    const outlier = [p.rate_outlier ? "rate" : "", p.size_outlier ? "size" : ""].filter(Boolean).join(", ");
    out.push(`  ${oneLine(p.label).padEnd(width)}  ${String(p.snapshots).padStart(5)}  ${oneLine(p.verdict ?? "error").padEnd(24)}  ` +
      `${(typeof p.objects === "number" ? formatCount(p.objects) : "-").padStart(10)}  ${(typeof p.bytes === "number" ? formatBytes(p.bytes) : "-").padStart(10)}  ` +
      `${rate(p.bytes_per_hour).padStart(12)}  ${rate(p.rss_per_hour).padStart(12)}  ${outlier || "-"}`);
    if (p.error) out.push(`      error: ${oneLine(p.error)}`);
  }
  const holders = f.holders.objects() as Row[];
  out.push("", holders.length > 0 ? "Holders named by the diagnoses, most processes first" : "Holders: none named");
  for (const h of holders.slice(0, 10)) {
    const where = (f.holderProcesses.objects() as Row[]).filter((r) => r.path === h.path).map((r) => oneLine(r.label)).join(", ");
    out.push(`  ${oneLine(h.path)}`, `      in ${h.processes} (${where}); ${oneLine(h.kind)}; ${rate(h.median_bytes_per_hour)} median, ${rate(h.bytes_per_hour)} summed`);
  }
  const types = f.types.objects() as Row[];
  out.push("", types.length > 0 ? "Types that grow, most processes first" : "Types that grow: none");
  for (const t of types.slice(0, 10)) {
    out.push(`  ${oneLine(t.type)}: grows in ${t.growing_in} of ${t.processes}; ${formatCount(Number(t.count))} objects, ` +
      `${formatBytes(Number(t.bytes))} now; ${rate(t.bytes_per_hour)} summed`);
  }
  for (const s of f.skipped) out.push(`skipped ${oneLine(s.file)}: ${s.reason}`);
  return out.join("\n") + "\n";
}

export async function fleet(positionals: string[], values: OptionValues): Promise<void> {
  const usage = COMMANDS.fleet.usage;
  if (positionals.length === 0) throw new SnapshotError(`missing DIRECTORY or FILE (usage: ${usage})`);
  const output = values.output;
  if (output !== undefined && (typeof output !== "string" || output === "")) throw new SnapshotError(`missing REPORT.html after -o (usage: ${usage})`);
  if (typeof output === "string" && !values.force && (await stat(output).catch(() => null))) {
    throw new SnapshotError(`${output} exists; pass --force to overwrite it`);
  }
  const workers = values.workers === undefined ? undefined : wholeOption(values, "workers", 1);
  // Imported when the command runs: other commands' start-up does not pay for the fleet's modules.
  const { analyseFleet } = await import("../fleet/index.js");
  const progress = terminalProgress();
  let fleet;
  try {
    fleet = await analyseFleet(positionals, {
      workers,
      tables: typeof values.tables === "string" ? values.tables : undefined,
      onProgress: (done, total) => progress.update(`diagnosing processes: ${done}/${total}`, done / Math.max(total, 1)),
    });
  } finally {
    progress.clear();
  }
  if (output !== undefined) {
    const { renderFleetReport } = await import("../present/report.js");
    await writeNewFile(output, await renderFleetReport(fleet, { source: positionals.join(" ") }), values.force === true);
  }
  if (values.json) printJson(fleetJson(fleet));
  else process.stdout.write(renderFleetText(fleet, positionals.join(" ")) + (output ? `wrote ${output}\n` : ""));
}
