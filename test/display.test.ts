// Display: HTML tables escape every string and use human units, long tables are cut, specs render to SVG, and show()
// sends tables and charts to a tslab kernel as one display_data bundle.
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { before, describe, it } from "node:test";
import * as aq from "arquero";
import type { Series } from "../src/engine/series.js";
import { escapeHtml, mimeBundle, renderHtml, renderText, show, VEGA_LITE_MIME } from "../src/present/display.js";
import { censusChart } from "../src/charts/charts.js";
import { census } from "../src/queries/census.js";
import { referents } from "../src/queries/navigate.js";
import { typeCounts } from "../src/queries/types.js";
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

  it("bundles a chart as vega-lite plus server-rendered SVG", async () => {
    const spec = censusChart(census(series));
    const bundle = await mimeBundle(spec);
    assert.deepEqual(bundle[VEGA_LITE_MIME], spec);
    assert.match(String(bundle["image/svg+xml"]), /^<svg/);
    assert.match(String(bundle["text/plain"]), /Objects in the heap/);
  });

  it("show() sends one display_data with every representation through tslab's kernel writer", async () => {
    // The writer tslab installs while a cell runs; here it records messages instead of sending them to Jupyter.
    const jupyter = createRequire(import.meta.url)("tslab/dist/jupyter.js") as { lastWriteDisplayData: unknown };
    const sent: { data: Record<string, unknown> }[] = [];
    jupyter.lastWriteDisplayData = (message: { data: Record<string, unknown> }) => sent.push(message);
    try {
      await show([census(series), censusChart(census(series))]);
    } finally {
      jupyter.lastWriteDisplayData = null;
    }
    assert.equal(sent.length, 2);
    assert.deepEqual(Object.keys(sent[0].data).sort(), ["text/html", "text/plain"]);
    assert.deepEqual(Object.keys(sent[1].data).sort(), [VEGA_LITE_MIME, "image/svg+xml", "text/plain"].sort());
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
