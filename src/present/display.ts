// Showing tables and charts: HTML tables with human units, server-rendered SVG (and PNG) for vega-lite specs, and
// show(), which sends them to a tslab notebook as one display (or prints text elsewhere).
import { createRequire } from "node:module";
import type { ColumnTable } from "arquero";
import type { VegaLiteSpec } from "../charts/charts.js";
import { formatAddress, formatBytes, formatCount } from "../common/units.js";
import { svgToPng } from "./png.js";
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

/** A byte column: numeric (or an array of numbers), named `bytes`, `*_bytes` or `*_sizes`; shown in binary units. */
function isBytesColumn(name: string): boolean {
  return name === "bytes" || name.endsWith("_bytes") || name.endsWith("_sizes");
}

/** An address column (`address`, `*_address`): shown in hex, as Python prints id() and `leakbook paths` takes it. */
function isAddressColumn(name: string): boolean {
  return name === "address" || name.endsWith("_address");
}

/** A number as its column's unit shows it: bytes in binary units, addresses in hex, others with separators. */
function numberText(column: string, value: number): string {
  if (isBytesColumn(column)) return formatBytes(value);
  if (isAddressColumn(column) && Number.isSafeInteger(value) && value >= 0) return formatAddress(value);
  return formatNumber(value);
}

/**
 * Render a table as HTML: byte columns (`*_bytes`, `*_sizes`) in human units with the exact count as a tooltip,
 * addresses in hex, counts with thousands separators, arrays shortened to their first and last items, one line a
 * row (a long text is cut, in full in its tooltip), the first `maxRows` rows and a line saying how many more there
 * are. A text column X is left out when X_bytes is shown (it is X_bytes in human units already). Every string,
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
  for (const c of columns) out.push(`<th style="text-align:left;padding:2px 8px;border-bottom:1px solid #999;white-space:nowrap">${escapeHtml(c)}</th>`);
  out.push("</tr></thead><tbody>");
  for (let r = 0; r < shown; r++) {
    out.push("<tr>");
    for (const c of columns) out.push(renderCell(c, table.get(c, r), maxChars));
    out.push("</tr>");
  }
  out.push("</tbody></table>");
  const rest = rows - shown;
  if (rest > 0) out.push(`<p style="font-size:12px">… ${formatCount(rest)} more rows (${formatCount(rows)} in all)</p>`);
  if (rows === 0) out.push('<p style="font-size:12px">(no rows)</p>');
  out.push("</div>");
  return out.join("");
}

// One line a row: no cell wraps; a text cell wider than TEXT_CELL_WIDTH ends in an ellipsis, its text in the tooltip.
const CELL = 'style="padding:2px 8px;vertical-align:top;white-space:nowrap';
const TEXT_CELL_WIDTH = "36em";
/** Text longer than this may be cut by the cell's width, so it gets a tooltip. */
const TOOLTIP_CHARS = 40;

function renderCell(column: string, value: unknown, maxChars: number): string {
  if (value === null || value === undefined) return `<td ${CELL}"></td>`;
  if (typeof value === "number") {
    const title = isBytesColumn(column) ? ` title="${escapeHtml(formatCount(value))} bytes"` : "";
    return `<td ${CELL};text-align:right"${title}>${escapeHtml(numberText(column, value))}</td>`;
  }
  const text = cellText(column, value);
  const shown = text.length <= maxChars ? text : `${text.slice(0, maxChars)}…`;
  const title = text.length > TOOLTIP_CHARS ? ` title="${escapeHtml(text.slice(0, 2000))}"` : "";
  return `<td ${CELL};max-width:${TEXT_CELL_WIDTH};overflow:hidden;text-overflow:ellipsis"${title}>${escapeHtml(shown)}</td>`;
}

function formatNumber(v: number): string {
  if (Number.isInteger(v)) return formatCount(v);
  if (!Number.isFinite(v)) return String(v);
  return Math.abs(v) >= 100 ? formatCount(v) : v.toPrecision(3);
}

/** Arrays of at most this many items are shown whole. */
const ARRAY_ITEMS = 5;

/** An array on one line: "3 · 5 · 8 · 13" whole when short, else its first three and last items and its length. */
export function arrayText(items: readonly unknown[], item: (v: unknown) => string = String): string {
  const text = (v: unknown) => (v === null || v === undefined ? "–" : item(v));
  if (items.length <= ARRAY_ITEMS) return items.map(text).join(" · ");
  return `${items.slice(0, 3).map(text).join(" · ")} … ${text(items[items.length - 1])} (${formatCount(items.length)})`;
}

function cellText(column: string, value: unknown): string {
  if (Array.isArray(value) || ArrayBuffer.isView(value)) {
    const items = Array.from(value as ArrayLike<unknown>);
    return arrayText(items, (v) => (typeof v === "number" ? numberText(column, v) : String(v)));
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
      if (typeof v === "number") return numberText(c, v);
      const text = terminalText(cellText(c, v));
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

/** A display_data message's content: the mime bundle and its metadata (the size to show a PNG at). */
export interface DisplayData {
  data: MimeBundle;
  metadata: Record<string, unknown>;
}

/**
 * What show() sends for a table (HTML + text), a vega-lite spec or any other value (text). A chart carries the spec
 * itself for the front ends that draw vega-lite (JupyterLab, VS Code), a PNG rendered here, shown at the chart's
 * own size, for all the others (classic Notebook, trusted or not, nbconvert, GitHub), and a line of text. It
 * carries no SVG: nbconvert ranks SVG above PNG and then strips it from its HTML export, leaving a blank area.
 */
export async function displayData(x: unknown, opts: DisplayOptions = {}): Promise<DisplayData> {
  if (isTable(x)) return { data: { "text/html": renderHtml(x, opts), "text/plain": plainText(x, opts) }, metadata: {} };
  if (isChartSpec(x)) {
    const png = await svgToPng(await renderSvg(x));
    return {
      data: { [VEGA_LITE_MIME]: x, "image/png": Buffer.from(png.bytes).toString("base64"), "text/plain": plainText(x, opts) },
      metadata: { "image/png": { width: png.width, height: png.height } },
    };
  }
  return { data: { "text/plain": plainText(x, opts) }, metadata: {} };
}

/** The text form of what show() shows: a table as text, a chart as its title, anything else as JSON. */
function plainText(x: unknown, opts: DisplayOptions): string {
  if (isTable(x)) return renderText(x, opts);
  if (isChartSpec(x)) return `[chart] ${terminalText(chartTitle(x))}`;
  return typeof x === "string" ? x : JSON.stringify(x, null, 2) ?? String(x);
}

type DisplayWriter = (data: DisplayData & { transient: object }, update: boolean) => void;

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
 * GitHub show the PNG. Outside a tslab kernel it prints the text form to stdout. Await it in a cell.
 */
export async function show(x: unknown, opts: DisplayOptions = {}): Promise<void> {
  if (Array.isArray(x)) {
    for (const item of x) await show(item, opts);
    return;
  }
  const write = tslabWriter();
  if (write) write({ ...(await displayData(x, opts)), transient: {} }, false);
  else process.stdout.write(plainText(x, opts) + "\n");
}
