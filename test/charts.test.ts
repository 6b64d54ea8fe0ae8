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

  it("bytesExpr labels bytes in binary units", () => {
    assert.match(charts.bytesExpr("datum.v"), /1048576/);
  });
});
