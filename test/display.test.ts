// Display: HTML tables escape every string and use human units and hex addresses, keep rows on one line, long tables
// are cut, specs render to SVG and PNG, and show() sends tables and charts to a tslab kernel as one display_data bundle.
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { before, describe, it } from "node:test";
import * as aq from "arquero";
import type { Series } from "../src/engine/series.js";
import { escapeHtml, displayData, renderHtml, renderSvg, renderText, show, VEGA_LITE_MIME } from "../src/present/display.js";
import { PNG_SCALE, svgToPng } from "../src/present/png.js";
import { decodePng, inkIn } from "./helpers/png.js";
import { censusChart } from "../src/charts/charts.js";
import { census } from "../src/queries/census.js";
import { referents } from "../src/queries/navigate.js";
import { typeCounts, typeGrowth } from "../src/queries/types.js";
import { plantedSeries, type Planted } from "./helpers/capture.js";
import { agentAvailable } from "./helpers/python.js";

const HOSTILE_KEY = "<img src=x onerror=alert(1)>";

describe("display", { skip: !agentAvailable() && "capture agent missing" }, () => {
  let planted: Planted;
  let series: Series;
  before(async () => {
    ({ planted, series } = await plantedSeries());
  });

  it("escapes & < > \" ' in text", () => {
    assert.equal(escapeHtml(`a&b<c>"d"'e'`), "a&amp;b&lt;c&gt;&quot;d&quot;&#39;e&#39;");
  });

  it("escapes a hostile dict key and value captured from the heap, and hostile column names", () => {
    const last = series.snapshots[series.snapshots.length - 1];
    const t = referents(last, planted.ids.HOSTILE);
    const names = t.array("name") as string[];
    assert.ok(names.includes(HOSTILE_KEY), "the key is in the table as captured");
    const html = renderHtml(t.derive({ [`<b onclick="x">`]: () => 1 }));
    assert.ok(html.includes("&lt;img src=x onerror=alert(1)&gt;"));
    assert.ok(html.includes("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"));
    assert.ok(html.includes("&lt;b onclick=&quot;x&quot;&gt;"));
    assert.ok(!/<img|<script|<b /.test(html), "no markup from the data survives");
  });

  it("shows byte columns in human units and cuts long tables", () => {
    const last = series.snapshots[series.snapshots.length - 1];
    const t = typeCounts(last);
    const html = renderHtml(t, { maxRows: 5 });
    assert.equal((html.match(/<tr>/g) ?? []).length, 1 + 5);
    assert.ok(html.includes(`… ${(t.numRows() - 5).toLocaleString("en-US")} more rows`));
    const firstBytes = t.get("shallow_bytes", 0) as number;
    assert.ok(html.includes(`title="${firstBytes.toLocaleString("en-US")} bytes"`));
    assert.match(html, /\d(\.\d)? (KiB|MiB)</);
    assert.ok(!html.includes(">shallow<"), "the human companion column is not repeated");
    const text = renderText(t, { maxRows: 3 });
    assert.equal(text.split("\n").length, 1 + 3 + 1);
  });

  it("shows addresses in hex, as `leakbook paths` takes them, in HTML and text", () => {
    const last = series.snapshots[series.snapshots.length - 1];
    const t = referents(last, planted.ids.HOSTILE).select("address", "type", "label");
    const hex = `0x${(t.get("address", 0) as number).toString(16)}`;
    const html = renderHtml(t);
    assert.ok(html.includes(`>${hex}</td>`), `${hex} in the HTML`);
    assert.ok(renderText(t).split("\n")[1].startsWith(hex), "and in the text");
    assert.doesNotMatch(html + renderText(t), /\d{3},\d{3},\d{3},\d{3}/, "no address with thousands separators");
  });

  it("keeps every row on one line: arrays shortened to their first and last items, long text cut with a tooltip", () => {
    const growth = typeGrowth(series, { top: 3 }).select("type", "counts");
    const counts = growth.get("counts", 0) as number[];
    assert.equal(counts.length, series.snapshots.length);
    const html = renderHtml(growth);
    assert.ok(html.includes(`>${counts.map((c) => c.toLocaleString("en-US")).join(" · ")}</td>`), "a short array whole");
    const long = aq.table({ sizes_bytes: [[1024, 2048, 4096, 8192, 16384, 32768]], lengths: [[3, 5, 8, 13, 21, 34, 55, 89, 144, 233, 377, 610]], note: ["x".repeat(300)] });
    const cells = renderHtml(long);
    assert.ok(cells.includes(">3 · 5 · 8 … 610 (12)</td>"), cells);
    assert.ok(cells.includes(">1.0 KiB · 2.0 KiB · 4.0 KiB … 32.0 KiB (6)</td>"), "byte arrays in binary units");
    assert.match(cells, new RegExp(`title="${"x".repeat(300)}">${"x".repeat(160)}…</td>`), "long text cut, whole in the tooltip");
    assert.match(renderText(long), /3 · 5 · 8 … 610 \(12\)/);
    for (const cell of [...html.matchAll(/<t[dh] [^>]*>/g), ...cells.matchAll(/<t[dh] [^>]*>/g)]) {
      assert.match(cell[0], /white-space:nowrap/, `a cell that may wrap: ${cell[0]}`);
    }
  });

  it("bundles a chart as vega-lite plus a PNG rendered here, shown at the chart's own size, and no SVG", async () => {
    const spec = censusChart(census(series));
    const { data, metadata } = await displayData(spec);
    assert.deepEqual(data[VEGA_LITE_MIME], spec);
    assert.equal(data["image/svg+xml"], undefined, "nbconvert would pick an SVG over the PNG, and strip it");
    const png = decodePng(Buffer.from(String(data["image/png"]), "base64"));
    const shown = (metadata["image/png"] as { width: number; height: number });
    const svg = await renderSvg(spec);
    const [, svgWidth, svgHeight] = /^<svg[^>]* width="(\d+)" height="(\d+)"/.exec(svg) ?? [];
    assert.deepEqual(shown, { width: Number(svgWidth), height: Number(svgHeight) }, "shown at the SVG's size");
    assert.deepEqual([png.width, png.height], [shown.width * PNG_SCALE, shown.height * PNG_SCALE], "drawn at PNG_SCALE");
    const { ink, colour } = inkIn(png, { x: 0, y: 0, width: png.width, height: png.height });
    assert.ok(ink > 0.02 && colour > 0.002, `the chart is drawn: ${ink} ink, ${colour} colour`);
    assert.match(String(data["text/plain"]), /Objects in the heap/);
  });

  it("renders a known SVG to the PNG pixels it describes (resvg and the test decoder agree)", async () => {
    const svg = '<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20"><rect x="20" y="0" width="20" height="20" fill="#ff0000"/></svg>';
    const png = await svgToPng(svg);
    assert.deepEqual([png.width, png.height], [40, 20]);
    const image = decodePng(png.bytes);
    const at = (x: number, y: number) => Array.from(image.rgba.subarray((y * image.width + x) * 4, (y * image.width + x) * 4 + 4));
    assert.deepEqual(at(10, 10), [255, 255, 255, 255], "the left half is the white background");
    assert.deepEqual(at(60, 30), [255, 0, 0, 255], "the right half is the red rectangle");
    assert.deepEqual(inkIn(image, { x: 0, y: 0, width: 40, height: 40 }), { ink: 0, colour: 0 });
    assert.deepEqual(inkIn(image, { x: 40, y: 0, width: 40, height: 40 }), { ink: 1, colour: 1 });
  });

  it("show() sends one display_data with every representation through tslab's kernel writer", async () => {
    // The writer tslab installs while a cell runs; here it records messages instead of sending them to Jupyter.
    const jupyter = createRequire(import.meta.url)("tslab/dist/jupyter.js") as { lastWriteDisplayData: unknown };
    const sent: { data: Record<string, unknown>; metadata: Record<string, unknown> }[] = [];
    jupyter.lastWriteDisplayData = (message: (typeof sent)[number]) => sent.push(message);
    try {
      await show([census(series), censusChart(census(series))]);
    } finally {
      jupyter.lastWriteDisplayData = null;
    }
    assert.equal(sent.length, 2);
    assert.deepEqual(Object.keys(sent[0].data).sort(), ["text/html", "text/plain"]);
    assert.deepEqual(Object.keys(sent[1].data), [VEGA_LITE_MIME, "image/png", "text/plain"]);
    assert.deepEqual(Object.keys(sent[1].metadata), ["image/png"], "the PNG's display size goes with it");
  });

  it("show() prints text outside a notebook", async () => {
    const writes: string[] = [];
    const original = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string) => (writes.push(String(chunk)), true)) as typeof process.stdout.write;
    try {
      await show(aq.table({ name: ["a"], size_bytes: [2048] }));
    } finally {
      process.stdout.write = original;
    }
    assert.equal(writes.join(""), "name  size_bytes\na     2.0 KiB\n");
  });
});
