// Showing tables and charts: HTML tables with human units, server-rendered SVG for vega-lite specs, and
// show(), which sends both to a tslab notebook as one display (or prints text elsewhere).
import { createRequire } from "node:module";
import type { ColumnTable } from "arquero";
import type { VegaLiteSpec } from "../charts/charts.js";
import { formatBytes, formatCount } from "../common/units.js";
import { terminalText, xmlChars } from "../common/escape.js";

export const VEGA_LITE_MIME = "application/vnd.vegalite.v5+json";

/** A Jupyter mime bundle: mime type -> content. */
export type MimeBundle = Record<string, unknown>;

export interface DisplayOptions {
  /** Rows shown before "… N more rows" (default 50). */
  maxRows?: number;
  /** Characters of a string cell shown before it is cut with "…" (default 160). */
  maxChars?: number;
}

const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

/** Escape text for HTML element content and quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

export function isTable(x: unknown): x is ColumnTable {
  const t = x as ColumnTable | null;
  return !!t && typeof t === "object" && typeof t.columnNames === "function" && typeof t.numRows === "function"
    && typeof t.get === "function";
}

export function isChartSpec(x: unknown): x is VegaLiteSpec {
  if (!x || typeof x !== "object" || isTable(x)) return false;
  const s = x as Record<string, unknown>;
  if (typeof s.$schema === "string") return s.$schema.includes("vega-lite");
  return ["mark", "layer", "concat", "hconcat", "vconcat", "facet", "repeat"].some((k) => k in s);
}

/** A byte column: numeric, named `bytes` or `*_bytes`; shown in binary units. */
function isBytesColumn(name: string): boolean {
  return name === "bytes" || name.endsWith("_bytes");
}

/**
 * Render a table as HTML: byte columns (named `*_bytes`) in human units with the exact count as a tooltip,
 * counts with thousands separators, the first `maxRows` rows and a line saying how many more there are.
 * A text column X is left out when X_bytes is shown (it is X_bytes in human units already). Every string,
 * column names included, is escaped.
 */
export function renderHtml(table: ColumnTable, opts: DisplayOptions = {}): string {
  const maxRows = opts.maxRows ?? 50;
  const maxChars = opts.maxChars ?? 160;
  const all = table.columnNames();
  const columns = all.filter((c) => !all.includes(`${c}_bytes`));
  const rows = table.numRows();
  const shown = Math.min(rows, maxRows);
  const out: string[] = [];
  out.push('<div class="leakbook-table"><table style="border-collapse:collapse;font-size:12px">');
  out.push("<thead><tr>");
  for (const c of columns) out.push(`<th style="text-align:left;padding:2px 8px;border-bottom:1px solid #999">${escapeHtml(c)}</th>`);
  out.push("</tr></thead><tbody>");
  for (let r = 0; r < shown; r++) {
    out.push("<tr>");
    for (const c of columns) out.push(renderCell(table.get(c, r), isBytesColumn(c), maxChars));
    out.push("</tr>");
  }
  out.push("</tbody></table>");
  const rest = rows - shown;
  if (rest > 0) out.push(`<p style="font-size:12px">… ${formatCount(rest)} more rows (${formatCount(rows)} in all)</p>`);
  if (rows === 0) out.push('<p style="font-size:12px">(no rows)</p>');
  out.push("</div>");
  return out.join("");
}

const CELL = 'style="padding:2px 8px;vertical-align:top';

function renderCell(value: unknown, bytes: boolean, maxChars: number): string {
  if (value === null || value === undefined) return `<td ${CELL}"></td>`;
  if (typeof value === "number") {
    const text = bytes ? formatBytes(value) : formatNumber(value);
    const title = bytes ? ` title="${escapeHtml(formatCount(value))} bytes"` : "";
    return `<td ${CELL};text-align:right;white-space:nowrap"${title}>${escapeHtml(text)}</td>`;
  }
  const text = cellText(value);
  if (text.length <= maxChars) return `<td ${CELL}">${escapeHtml(text)}</td>`;
  return `<td ${CELL}" title="${escapeHtml(text.slice(0, 2000))}">${escapeHtml(text.slice(0, maxChars))}…</td>`;
}

function formatNumber(v: number): string {
  if (Number.isInteger(v)) return formatCount(v);
  if (!Number.isFinite(v)) return String(v);
  return Math.abs(v) >= 100 ? formatCount(v) : v.toPrecision(3);
}

function cellText(value: unknown): string {
  if (Array.isArray(value) || ArrayBuffer.isView(value)) {
    const items = Array.from(value as ArrayLike<unknown>);
    const head = items.slice(0, 12).map((v) => (typeof v === "number" ? formatNumber(v) : String(v)));
    return `[${head.join(", ")}${items.length > 12 ? `, … ${items.length - 12} more` : ""}]`;
  }
  if (value instanceof Date) return value.toISOString();
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

/** Plain-text rendering of a table for terminals and the text/plain fallback. */
export function renderText(table: ColumnTable, opts: DisplayOptions = {}): string {
  const maxRows = opts.maxRows ?? 20;
  const all = table.columnNames();
  const columns = all.filter((c) => !all.includes(`${c}_bytes`));
  const shown = Math.min(table.numRows(), maxRows);
  // Cells escaped for the terminal (names and keys are text from the snapshot) before widths are measured.
  const cells = [columns.map(terminalText)];
  for (let r = 0; r < shown; r++) {
    cells.push(columns.map((c) => {
      const v = table.get(c, r);
      if (v === null || v === undefined) return "";
      if (typeof v === "number") return isBytesColumn(c) ? formatBytes(v) : formatNumber(v);
      const text = terminalText(cellText(v));
      return text.length > 60 ? text.slice(0, 59) + "…" : text;
    }));
  }
  const widths = columns.map((_, k) => Math.max(...cells.map((row) => row[k].length)));
  const lines = cells.map((row) => row.map((cell, k) => cell.padEnd(widths[k])).join("  ").trimEnd());
  const rest = table.numRows() - shown;
  if (rest > 0) lines.push(`… ${formatCount(rest)} more rows`);
  return lines.join("\n");
}

/** Render a vega-lite spec to SVG in this process (vega and vega-lite are loaded on first use). */
export async function renderSvg(spec: VegaLiteSpec): Promise<string> {
  // Dynamic import: vega's module graph has top-level await, so it cannot be require()d by tslab's CommonJS cells.
  const vega = await import("vega");
  const vegaLite = await import("vega-lite");
  const view = new vega.View(vega.parse(vegaLite.compile(spec as never).spec), { renderer: "none" });
  try {
    // vega escapes markup characters in text but keeps control characters, which XML does not allow.
    return xmlChars(await view.toSVG());
  } finally {
    view.finalize();
  }
}

function chartTitle(spec: VegaLiteSpec): string {
  const title = spec.title as string | { text?: string } | undefined;
  return typeof title === "string" ? title : (title?.text ?? "chart");
}

/**
 * The mime bundle for a table (HTML + text), a vega-lite spec (the spec itself for interactive front ends, an
 * SVG rendered here for everything else, and a text line) or any other value (text).
 */
export async function mimeBundle(x: unknown, opts: DisplayOptions = {}): Promise<MimeBundle> {
  if (isTable(x)) return { "text/html": renderHtml(x, opts), "text/plain": renderText(x, opts) };
  if (isChartSpec(x)) {
    return { [VEGA_LITE_MIME]: x, "image/svg+xml": await renderSvg(x), "text/plain": `[chart] ${terminalText(chartTitle(x))}` };
  }
  return { "text/plain": typeof x === "string" ? x : JSON.stringify(x, null, 2) ?? String(x) };
}

type DisplayWriter = (data: { data: MimeBundle; metadata: object; transient: object }, update: boolean) => void;

/**
 * tslab's writer for display_data messages of the cell being run, or null outside a tslab kernel. tslab's public
 * display API sends one mime type per message; its jupyter module keeps the writer that takes a whole bundle.
 * It is looked up among loaded modules so that it is the kernel's own tslab, wherever that is installed.
 */
function tslabWriter(): DisplayWriter | null {
  const cache = createRequire(import.meta.url).cache;
  for (const [file, mod] of Object.entries(cache)) {
    if (!/[\\/]tslab[\\/]dist[\\/]jupyter\.js$/.test(file)) continue;
    const writer = (mod?.exports as { lastWriteDisplayData?: unknown } | undefined)?.lastWriteDisplayData;
    if (typeof writer === "function") return writer as DisplayWriter;
  }
  return null;
}

/**
 * Show a table, a chart spec (or an array of them) in the notebook: one display_data per item carrying every
 * representation, so JupyterLab and VS Code render the interactive chart and classic Notebook, nbconvert and
 * GitHub show the SVG. Outside a tslab kernel it prints the text form to stdout. Await it in a cell.
 */
export async function show(x: unknown, opts: DisplayOptions = {}): Promise<void> {
  if (Array.isArray(x)) {
    for (const item of x) await show(item, opts);
    return;
  }
  const bundle = await mimeBundle(x, opts);
  const write = tslabWriter();
  if (write) write({ data: bundle, metadata: {}, transient: {} }, false);
  else process.stdout.write(String(bundle["text/plain"]) + "\n");
}
