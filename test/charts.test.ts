// Every chart builder on tables from a real planted capture: the spec names the v5 schema, compiles with vega-lite and
// renders to SVG with its title and human byte units.
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import type { Series } from "../src/engine/series.js";
import * as charts from "../src/charts/charts.js";
import { renderSvg } from "../src/present/display.js";
import { census } from "../src/queries/census.js";
import { caches } from "../src/queries/caches.js";
import { memoryGap } from "../src/queries/memory.js";
import { dominated } from "../src/queries/navigate.js";
import { largest, sizeDistribution } from "../src/queries/objects.js";
import { stringTotals } from "../src/queries/strings.js";
import { typeGrowth, typeHistory } from "../src/queries/types.js";
import { plantedSeries, type Planted } from "./helpers/capture.js";
import { agentAvailable } from "./helpers/python.js";

describe("chart builders", { skip: !agentAvailable() && "capture agent missing" }, () => {
  let planted: Planted;
  let series: Series;
  before(async () => {
    ({ planted, series } = await plantedSeries());
  });

  const titleOf = (spec: charts.VegaLiteSpec) => (typeof spec.title === "string" ? spec.title : (spec.title as { text: string }).text);

  async function check(spec: charts.VegaLiteSpec, mustShow: RegExp[]) {
    assert.equal(spec.$schema, "https://vega.github.io/schema/vega-lite/v5.json");
    const values = (spec.data as { values: unknown[] }).values;
    assert.ok(values.length > 0, `${titleOf(spec)} has data`);
    const svg = await renderSvg(spec);
    assert.match(svg, /^<svg[^>]*width="(\d+)"/);
    const width = Number(/^<svg[^>]*width="(\d+)"/.exec(svg)![1]);
    assert.ok(width <= 820, `${titleOf(spec)} is ${width} px wide`);
    assert.ok(svg.includes(titleOf(spec).replace(/&/g, "&amp;")), "the title is drawn");
    for (const re of mustShow) assert.match(svg, re);
  }

  it("lines over time: census, type history, strings, memory gap, cache lengths", async () => {
    await check(charts.censusChart(census(series)), [/Objects/, /GC-tracked objects/]);
    const history = typeHistory(series, { types: ["__main__.Leaky", "__main__.Planted"] });
    await check(charts.typeHistoryChart(history), [/__main__\.Leaky/]);
    await check(charts.typeHistoryChart(history, { measure: "bytes" }), [/KiB/]);
    await check(charts.stringTotalsChart(stringTotals(series)), [/KiB|MiB/]);
    await check(charts.memoryGapChart(memoryGap(series)), [/MiB/, /RSS/]);
    await check(charts.cacheLengthsChart(caches(series, { top: 5 })), [/__main__'\]\.LEAKY/]);
  });

  it("bars, heatmap, histogram and icicle", async () => {
    const last = series.snapshots[series.snapshots.length - 1];
    await check(charts.typeGrowthChart(typeGrowth(series, { top: 8 })), [/Instances gained/]);
    await check(charts.typeGrowthChart(typeGrowth(series, { top: 8, by: "bytes" }), { measure: "bytes" }), [/KiB/]);
    await check(charts.largestChart(largest(last, { top: 10 })), [/Retained size/, /KiB|MiB/]);
    await check(charts.typeHeatmap(typeHistory(series, { top: 6 })), [/Snapshot/]);
    await check(charts.sizeHistogram(sizeDistribution(last)), [/Objects/]);
    const tree = dominated(last, planted.ids.TREE);
    const icicle = charts.dominatorIcicle(tree);
    await check(icicle, [/Node/]);
    const rects = (icicle.data as { values: { x: number; x2: number; y: number }[] }).values;
    assert.equal(rects.length, tree.numRows());
    const top = rects.find((r) => r.y === 0)!;
    assert.equal(top.x2 - top.x, tree.get("retained_bytes", 0), "the root spans its retained size");
    assert.ok(rects.every((r) => r.x >= top.x && r.x2 <= top.x2 + 1e-6), "children lie within the root");
  });

  it("growth charts draw only what grew: no flat type among the fastest-growing", () => {
    const growth = typeGrowth(series, { top: 40 });
    const deltas = growth.array("delta_count") as Float64Array;
    assert.ok(Array.from(deltas).some((d) => d <= 0), "the table has types that did not grow, for the chart to leave out");
    const bars = (charts.typeGrowthChart(growth).data as { values: { type: string; value: number }[] }).values;
    assert.deepEqual(bars.map((b) => b.type), (growth.objects() as { type: string; delta_count: number }[]).filter((r) => r.delta_count > 0).map((r) => r.type));
    const history = typeHistory(series, { types: ["__main__.Leaky", "__main__.Planted"] });
    const planted = history.objects().filter((r: any) => r.type === "__main__.Planted").map((r: any) => r.count);
    assert.ok(planted.every((c: number) => c === planted[0]), "Planted is flat in the capture");
    const lines = (charts.typeHistoryChart(history).data as { values: { series: string }[] }).values;
    assert.deepEqual([...new Set(lines.map((v) => v.series))], ["__main__.Leaky"]);
  });

  it("byte axes tick at round values in one binary unit, computed from the data", async () => {
    const MiB = 1024 * 1024;
    assert.deepEqual(charts.byteTicks([3.1 * MiB, 23.8 * MiB]), { ticks: [0, 5, 10, 15, 20, 25].map((t) => t * MiB), unit: [MiB, "MiB"] });
    assert.deepEqual(charts.byteTicks([-300, 700]).ticks, [-400, -200, 0, 200, 400, 600, 800]);
    const spec = charts.memoryGapChart(memoryGap(series));
    const values = (spec.data as { values: { value: number }[] }).values.map((v) => v.value);
    const y = (spec.encoding as { y: { axis: { values: number[] }; scale: { domain: number[] } } }).y;
    const ticks = y.axis.values;
    const unit = 1024 ** Math.floor(Math.log(Math.max(...ticks)) / Math.log(1024));
    const step = (ticks[1] - ticks[0]) / unit;
    assert.ok([1, 2, 5].includes(Number((step / 10 ** Math.floor(Math.log10(step))).toPrecision(6))), `step ${step} is 1, 2 or 5 × 10^k`);
    assert.ok(ticks.every((t, k) => Math.abs(t - ticks[0] - k * step * unit) < 1e-6 * unit), "evenly spaced");
    assert.ok(ticks[0] <= Math.min(...values) && ticks[ticks.length - 1] >= Math.max(...values), "the ticks span the data");
    assert.deepEqual(y.scale.domain, [ticks[0], ticks[ticks.length - 1]]);
    // Drawn, every label is a round number in that unit ("5 MiB", never "4.77 MiB").
    const svg = await renderSvg(spec);
    const labels = [...svg.matchAll(/<text[^>]*>([^<]*(?:B|KiB|MiB|GiB))<\/text>/g)].map((m) => m[1]);
    const unitName = ["B", "KiB", "MiB", "GiB"][Math.round(Math.log(unit) / Math.log(1024))];
    assert.deepEqual(labels, ticks.map((t) => `${Number((t / unit).toPrecision(6))} ${unitName}`));
  });

  it("labels the largest objects by their path, and by type and address only when they have none", () => {
    const last = series.snapshots[series.snapshots.length - 1];
    const table = largest(last, { top: 12 });
    const bars = (charts.largestChart(table).data as { values: { object: string; path: string; address: string }[] }).values;
    const rows = table.objects() as { path: string | null; address: number }[];
    assert.ok(rows.some((r) => r.path !== null), "some of the largest objects have a path");
    rows.forEach((r, k) => {
      assert.equal(bars[k].address, `0x${r.address.toString(16)}`);
      if (r.path) assert.ok(bars[k].object.startsWith(charts.pathLabel(r.path)), `${bars[k].object} names ${r.path}`);
      else assert.match(bars[k].object, / 0x[0-9a-f]+$/);
    });
    assert.equal(new Set(bars.map((b) => b.object)).size, bars.length, "every bar has its own label");
    assert.equal(charts.pathLabel("sys.modules['app.cache'].SESSIONS"), "app.cache.SESSIONS");
  });

  it("bytesExpr labels bytes in binary units", () => {
    assert.match(charts.bytesExpr("datum.v"), /1048576/);
  });
});
