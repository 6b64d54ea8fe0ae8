// Vega-lite chart specs for the query helpers' tables: plain JSON objects, rendered by show() or any vega-lite host.
import type { ColumnTable } from "arquero";
import { formatAddress, formatBytes, formatCount } from "../common/units.js";

/** A vega-lite specification (plain JSON). */
export type VegaLiteSpec = { $schema: string; [key: string]: unknown };

/** vega-lite 6 still publishes its schema under the v5 URL. */
export const VEGA_LITE_SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json";

/** Plot width in pixels: with axis labels (cut at 200 px) a chart stays within ~800 px of notebook width. */
const WIDTH = 540;
const HEIGHT = 260;

type Row = Record<string, unknown>;

/** Vega expression that prints a byte count in binary units: 1536 -> "1.5 KiB". */
export function bytesExpr(value = "datum.value"): string {
  const a = `abs(${value})`;
  return (
    `${a} >= 1073741824 ? format(${value} / 1073741824, '.3~r') + ' GiB' : ` +
    `${a} >= 1048576 ? format(${value} / 1048576, '.3~r') + ' MiB' : ` +
    `${a} >= 1024 ? format(${value} / 1024, '.3~r') + ' KiB' : format(${value}, 'd') + ' B'`
  );
}

const BINARY_UNITS: [size: number, name: string][] = [[1, "B"], [1024, "KiB"], [1024 ** 2, "MiB"], [1024 ** 3, "GiB"], [1024 ** 4, "TiB"]];

/**
 * Round tick values for a byte axis, computed from the data: steps of 1, 2 or 5 × 10^k in the binary unit of the
 * largest value (0, 5, 10, 15 MiB rather than the 4.77, 9.54, 14.3 MiB of decimal steps), from zero or the lowest
 * value to the first tick at or above the highest. `unit` names the unit every label is written in.
 */
export function byteTicks(values: readonly number[], target = 5): { ticks: number[]; unit: [size: number, name: string] } {
  const finite = values.filter(Number.isFinite);
  const lo = Math.min(0, ...finite);
  const hi = Math.max(0, ...finite);
  const largest = Math.max(Math.abs(lo), Math.abs(hi));
  const unit = [...BINARY_UNITS].reverse().find(([size]) => largest >= size) ?? BINARY_UNITS[0];
  if (hi === lo) return { ticks: [0], unit };
  const raw = (hi - lo) / unit[0] / target;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= raw * (1 - 1e-9)) as number;
  const ticks: number[] = [];
  // Whole multiples of the step, so that 0.1 + 0.2 rounding never shows in a label.
  for (let k = Math.floor(lo / unit[0] / step); k <= Math.ceil(hi / unit[0] / step - 1e-9); k++) {
    ticks.push(Number((k * step).toPrecision(12)) * unit[0]);
  }
  return { ticks, unit };
}

/** Scale and axis settings of a byte axis with round ticks (byteTicks), every label in one unit. */
function byteAxis(values: readonly number[]): { scale: object; axis: object } {
  const { ticks, unit } = byteTicks(values);
  return {
    scale: { domain: [ticks[0], ticks[ticks.length - 1]], nice: false },
    // Flush: the end labels stay inside the plot's extent instead of overhanging the chart's edge.
    axis: { values: ticks, labelFlush: true, labelExpr: `format(datum.value / ${unit[0]}, '.4~r') + ' ${unit[1]}'` },
  };
}

function rowsOf(table: ColumnTable): Row[] {
  return table.objects() as Row[];
}

function base(title: string, subtitle?: string): VegaLiteSpec {
  return {
    $schema: VEGA_LITE_SCHEMA,
    title: subtitle ? { text: title, subtitle } : title,
    width: WIDTH,
    height: HEIGHT,
    // Legends go below the plot so long type names and paths never widen the chart.
    config: { legend: { orient: "bottom", columns: 2, labelLimit: 360 }, axis: { labelLimit: 200 } },
  };
}

/** Field and title of a time axis in the unit that suits the series' span (seconds, minutes or hours). */
function elapsedAxis(rows: Row[]): { title: string; scale: number } {
  const span = Math.max(0, ...rows.map((r) => Number(r.elapsed_s ?? 0)));
  if (span >= 3 * 3600) return { title: "Hours since the first snapshot", scale: 3600 };
  if (span >= 3 * 60) return { title: "Minutes since the first snapshot", scale: 60 };
  return { title: "Seconds since the first snapshot", scale: 1 };
}

/** Long form {x, series, value, value_text} for a multi-line chart over time. */
function foldOverTime(rows: Row[], measures: [field: string, label: string][], bytes: boolean): Row[] {
  const axis = elapsedAxis(rows);
  const out: Row[] = [];
  for (const r of rows) {
    for (const [field, label] of measures) {
      const v = r[field];
      if (v === null || v === undefined) continue;
      out.push({
        elapsed: Number(r.elapsed_s ?? 0) / axis.scale,
        snapshot: r.snapshot,
        series: label,
        value: v,
        value_text: bytes ? formatBytes(Number(v)) : formatCount(Number(v)),
      });
    }
  }
  return out;
}

function lineOverTime(title: string, yTitle: string, values: Row[], rows: Row[], bytes: boolean, legend: string): VegaLiteSpec {
  return {
    ...base(title),
    data: { values },
    mark: { type: "line", point: true, tooltip: true },
    encoding: {
      x: { field: "elapsed", type: "quantitative", title: elapsedAxis(rows).title },
      y: {
        field: "value",
        type: "quantitative",
        title: yTitle,
        ...(bytes ? byteAxis(values.map((v) => Number(v.value))) : {}),
      },
      color: { field: "series", type: "nominal", title: legend },
      tooltip: [
        { field: "series", type: "nominal", title: legend },
        { field: "snapshot", type: "quantitative", title: "Snapshot" },
        { field: "value_text", type: "nominal", title: yTitle },
      ],
    },
  };
}

/** Objects and GC-tracked objects over time, from census(series). */
export function censusChart(census: ColumnTable): VegaLiteSpec {
  const rows = rowsOf(census);
  const values = foldOverTime(rows, [["objects", "all objects"], ["tracked", "GC-tracked objects"]], false);
  return lineOverTime("Objects in the heap over time", "Objects", values, rows, false, "Count");
}

/** RSS against Python objects and pymalloc arenas over time, from memoryGap(series). */
export function memoryGapChart(gap: ColumnTable): VegaLiteSpec {
  const rows = rowsOf(gap);
  const values = foldOverTime(
    rows,
    [
      ["rss_bytes", "RSS (process)"],
      ["arena_allocated_bytes", "pymalloc arenas allocated"],
      ["arena_used_bytes", "pymalloc blocks in use"],
      ["python_bytes", "Python objects (shallow sum)"],
    ],
    true,
  );
  return lineOverTime("Process memory against Python objects", "Memory", values, rows, true, "Measure");
}

/** The types whose measure ends higher than it started (history rows in snapshot order, as typeHistory gives them). */
function grownTypes(rows: Row[], field: string): Set<string> {
  const first = new Map<string, number>();
  const last = new Map<string, number>();
  for (const r of rows) {
    const type = String(r.type);
    if (!first.has(type)) first.set(type, Number(r[field]));
    last.set(type, Number(r[field]));
  }
  return new Set([...first].filter(([type, v]) => (last.get(type) as number) > v).map(([type]) => type));
}

/**
 * Count (or bytes) of each type over time, from typeHistory(series). Only the types that grew are drawn: a flat or
 * shrinking type is no "fastest-growing type".
 */
export function typeHistoryChart(history: ColumnTable, opts: { measure?: "count" | "bytes" } = {}): VegaLiteSpec {
  const bytes = opts.measure === "bytes";
  const all = rowsOf(history);
  const grown = grownTypes(all, bytes ? "bytes" : "count");
  const rows = all.filter((r) => grown.has(String(r.type)));
  const axis = elapsedAxis(rows);
  const values = rows.map((r) => ({
    elapsed: Number(r.elapsed_s) / axis.scale,
    snapshot: r.snapshot,
    series: r.type,
    value: bytes ? r.bytes : r.count,
    value_text: bytes ? formatBytes(Number(r.bytes)) : formatCount(Number(r.count)),
  }));
  const title = bytes ? "Shallow bytes of the fastest-growing types" : "Instances of the fastest-growing types";
  return lineOverTime(title, bytes ? "Shallow size" : "Instances", values, rows, bytes, "Type");
}

/** Heatmap of type (rows) by snapshot (columns), coloured by count or bytes, from typeHistory(series). */
export function typeHeatmap(history: ColumnTable, opts: { measure?: "count" | "bytes" } = {}): VegaLiteSpec {
  const bytes = opts.measure === "bytes";
  const values = rowsOf(history).map((r) => ({
    type: r.type,
    snapshot: r.snapshot,
    value: bytes ? r.bytes : r.count,
    value_text: bytes ? formatBytes(Number(r.bytes)) : formatCount(Number(r.count)),
  }));
  const label = bytes ? "Shallow size" : "Instances";
  return {
    ...base(`${label} per type and snapshot`),
    data: { values },
    mark: { type: "rect", tooltip: true },
    encoding: {
      x: { field: "snapshot", type: "ordinal", title: "Snapshot" },
      y: { field: "type", type: "nominal", title: "Type", sort: null },
      color: {
        field: "value",
        type: "quantitative",
        title: label,
        scale: { scheme: "oranges" },
        ...(bytes ? { legend: { labelExpr: bytesExpr() } } : {}),
      },
      tooltip: [
        { field: "type", type: "nominal", title: "Type" },
        { field: "snapshot", type: "ordinal", title: "Snapshot" },
        { field: "value_text", type: "nominal", title: label },
      ],
    },
  };
}

/** Horizontal bars of the growth per type, from typeGrowth(series): the types that gained (delta above zero) only. */
export function typeGrowthChart(growth: ColumnTable, opts: { measure?: "count" | "bytes" } = {}): VegaLiteSpec {
  const bytes = opts.measure === "bytes";
  const values = rowsOf(growth)
    .filter((r) => Number(bytes ? r.delta_bytes : r.delta_count) > 0)
    .map((r) => ({
      type: r.type,
      value: bytes ? r.delta_bytes : r.delta_count,
      value_text: bytes ? formatBytes(Number(r.delta_bytes)) : formatCount(Number(r.delta_count)),
      steady: r.steady ? "steady" : "irregular",
      last_text: bytes ? formatBytes(Number(r.last_bytes)) : formatCount(Number(r.last_count)),
    }));
  const label = bytes ? "Shallow bytes gained" : "Instances gained";
  return {
    ...base(`Type growth between the first and the last snapshot`, label),
    data: { values },
    mark: { type: "bar", tooltip: true },
    encoding: {
      y: { field: "type", type: "nominal", title: "Type", sort: "-x" },
      x: {
        field: "value",
        type: "quantitative",
        title: label,
        ...(bytes ? byteAxis(values.map((v) => Number(v.value))) : {}),
      },
      color: {
        field: "steady",
        type: "nominal",
        title: "Growth",
        scale: { domain: ["steady", "irregular"], range: ["#d62728", "#9e9e9e"] },
      },
      tooltip: [
        { field: "type", type: "nominal", title: "Type" },
        { field: "value_text", type: "nominal", title: label },
        { field: "last_text", type: "nominal", title: "In the last snapshot" },
        { field: "steady", type: "nominal", title: "Growth" },
      ],
    },
  };
}

/** Characters of a bar label; the whole path is in the tooltip. */
const LABEL_CHARS = 32;

/** A retention path as a short label: a module global `sys.modules['app'].x` reads `app.x`. */
export function pathLabel(path: string): string {
  const short = path.replace(/^sys\.modules\['([^'\\]+)'\]/, "$1");
  return short.length <= LABEL_CHARS ? short : `${short.slice(0, LABEL_CHARS - 1)}…`;
}

/**
 * Horizontal bars of the largest objects, from largest(snap) (or any table with type, address, path and a bytes
 * column): each bar is labelled by the object's path, or by its type and address when it has none.
 */
export function largestChart(largest: ColumnTable, opts: { measure?: "retained" | "shallow" } = {}): VegaLiteSpec {
  const field = opts.measure === "shallow" ? "shallow_bytes" : "retained_bytes";
  const label = opts.measure === "shallow" ? "Shallow size" : "Retained size";
  const rows = rowsOf(largest);
  const address = (r: Row) => formatAddress(Number(r.address));
  const labels = rows.map((r) => (r.path ? pathLabel(String(r.path)) : `${shortName(String(r.type))} ${address(r)}`));
  const values = rows.map((r, k) => ({
    // Bars are told apart by their label: two objects whose paths shorten alike also show their addresses.
    object: labels.indexOf(labels[k]) !== labels.lastIndexOf(labels[k]) ? `${labels[k]} ${address(r)}` : labels[k],
    type: shortName(String(r.type)),
    address: address(r),
    path: r.path ?? "(unreachable)",
    value: r[field],
    value_text: formatBytes(Number(r[field])),
  }));
  return {
    ...base(`Largest objects by ${label.toLowerCase()}`),
    data: { values },
    mark: { type: "bar", tooltip: true },
    encoding: {
      // No axis title: the paths say what they are, and the room goes to them.
      y: { field: "object", type: "nominal", title: null, sort: "-x", axis: { labelLimit: 260 } },
      x: { field: "value", type: "quantitative", title: label, ...byteAxis(values.map((v) => Number(v.value))) },
      tooltip: [
        { field: "path", type: "nominal", title: "Path" },
        { field: "type", type: "nominal", title: "Type" },
        { field: "address", type: "nominal", title: "Address" },
        { field: "value_text", type: "nominal", title: label },
      ],
    },
  };
}

/** Total length or bytes of str, bytes and bytearray over time, from stringTotals(series). */
export function stringTotalsChart(totals: ColumnTable, opts: { measure?: "bytes" | "length" } = {}): VegaLiteSpec {
  const bytes = opts.measure !== "length";
  const rows = rowsOf(totals);
  const axis = elapsedAxis(rows);
  const values = rows.map((r) => ({
    elapsed: Number(r.elapsed_s) / axis.scale,
    snapshot: r.snapshot,
    series: r.type,
    value: bytes ? r.total_bytes : r.total_length,
    value_text: bytes ? formatBytes(Number(r.total_bytes)) : formatCount(Number(r.total_length)),
  }));
  const title = bytes ? "Bytes held by strings and buffers" : "Total length of strings and buffers";
  return lineOverTime(title, bytes ? "Shallow size" : "Length (characters or bytes)", values, rows, bytes, "Type");
}

/** Length of each cache in every snapshot, from caches(series) (its `lengths` column). */
export function cacheLengthsChart(caches: ColumnTable, opts: { top?: number } = {}): VegaLiteSpec {
  const values: Row[] = [];
  for (const r of rowsOf(caches).slice(0, opts.top ?? 10)) {
    const lengths = (r.lengths as (number | null)[] | undefined) ?? [];
    lengths.forEach((length, k) => {
      if (length === null) return;
      values.push({ snapshot: k, series: String(r.path ?? r.type), value: length, value_text: formatCount(length) });
    });
  }
  return {
    ...base("Length of module-level and class-level containers"),
    data: { values },
    mark: { type: "line", point: true, tooltip: true },
    encoding: {
      x: { field: "snapshot", type: "quantitative", title: "Snapshot", axis: { tickMinStep: 1, format: "d" } },
      y: { field: "value", type: "quantitative", title: "Entries" },
      color: { field: "series", type: "nominal", title: "Container" },
      tooltip: [
        { field: "series", type: "nominal", title: "Container" },
        { field: "snapshot", type: "quantitative", title: "Snapshot" },
        { field: "value_text", type: "nominal", title: "Entries" },
      ],
    },
  };
}

/** Bars of object counts per power-of-two size bucket, from sizeDistribution(snap). */
export function sizeHistogram(distribution: ColumnTable, opts: { title?: string } = {}): VegaLiteSpec {
  const values = rowsOf(distribution).map((r) => ({
    bucket: r.bucket,
    low: r.low,
    count: r.count,
    count_text: formatCount(Number(r.count)),
    total_text: formatBytes(Number(r.total_bytes)),
  }));
  return {
    ...base(opts.title ?? "Objects by size"),
    data: { values },
    mark: { type: "bar", tooltip: true },
    encoding: {
      x: { field: "bucket", type: "ordinal", title: "Size (bytes, power-of-two buckets)", sort: { field: "low" } },
      y: { field: "count", type: "quantitative", title: "Objects" },
      tooltip: [
        { field: "bucket", type: "ordinal", title: "Size" },
        { field: "count_text", type: "nominal", title: "Objects" },
        { field: "total_text", type: "nominal", title: "Total size" },
      ],
    },
  };
}

/**
 * Icicle of a dominator subtree, from dominated(snap, obj): each object is a rectangle as wide as its retained
 * size, below the object that dominates it. vega-lite has no treemap layout, so the rectangles are laid out here.
 */
export function dominatorIcicle(dominated: ColumnTable, opts: { colorTypes?: number } = {}): VegaLiteSpec {
  const rows = rowsOf(dominated);
  const childrenOf = new Map<number, Row[]>();
  const indices = new Set(rows.map((r) => Number(r.index)));
  const tops: Row[] = [];
  for (const r of rows) {
    const parent = Number(r.parent);
    if (!indices.has(parent)) tops.push(r);
    else {
      let list = childrenOf.get(parent);
      if (!list) childrenOf.set(parent, (list = []));
      list.push(r);
    }
  }
  const byRetained = (a: Row, b: Row) => Number(b.retained_bytes) - Number(a.retained_bytes);
  // Colour the most frequent types; the rest share one grey.
  const typeFreq = new Map<string, number>();
  for (const r of rows) typeFreq.set(String(r.type), (typeFreq.get(String(r.type)) ?? 0) + Number(r.retained_bytes));
  const colored = new Set([...typeFreq.entries()].sort((a, b) => b[1] - a[1]).slice(0, opts.colorTypes ?? 9).map(([t]) => t));
  const values: Row[] = [];
  const total = tops.reduce((s, r) => s + Number(r.retained_bytes), 0) || 1;
  const place = (r: Row, x: number, depth: number) => {
    const width = Number(r.retained_bytes);
    values.push({
      x,
      x2: x + width,
      y: depth,
      y2: depth + 1,
      type: colored.has(String(r.type)) ? shortName(String(r.type)) : "other",
      label: `${shortName(String(r.type))}${r.name ? " " + String(r.name).slice(0, 40) : ""}`,
      object: formatAddress(Number(r.address)),
      retained_text: formatBytes(width),
      share: width / total,
    });
    let cx = x;
    for (const c of (childrenOf.get(Number(r.index)) ?? []).sort(byRetained)) {
      place(c, cx, depth + 1);
      cx += Number(c.retained_bytes);
    }
  };
  let x = 0;
  for (const r of tops.sort(byRetained)) {
    place(r, x, 0);
    x += Number(r.retained_bytes);
  }
  const depth = Math.max(1, ...values.map((v) => Number(v.y2)));
  return {
    ...base("Dominator tree: what each object keeps alive", "width = retained size; each row is dominated by the one above"),
    height: Math.min(520, 28 * depth),
    data: { values },
    layer: [
      {
        mark: { type: "rect", stroke: "white", strokeWidth: 1, tooltip: true },
        encoding: {
          x: { field: "x", type: "quantitative", axis: null, scale: { domain: [0, total], nice: false, zero: true } },
          x2: { field: "x2" },
          y: { field: "y", type: "quantitative", axis: null, scale: { domain: [0, depth], reverse: true, nice: false } },
          y2: { field: "y2" },
          color: { field: "type", type: "nominal", title: "Type" },
          tooltip: [
            { field: "label", type: "nominal", title: "Object" },
            { field: "object", type: "nominal", title: "Address" },
            { field: "retained_text", type: "nominal", title: "Retained" },
          ],
        },
      },
      {
        transform: [{ filter: "datum.share > 0.08" }],
        mark: { type: "text", align: "left", baseline: "middle", dx: 4, dy: 14, fontSize: 10, limit: 120 },
        encoding: {
          x: { field: "x", type: "quantitative" },
          y: { field: "y", type: "quantitative" },
          text: { field: "label" },
        },
      },
    ],
  };
}

function shortName(type: string): string {
  return type.startsWith("builtins.") ? type.slice(9) : type;
}
