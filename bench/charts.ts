// What a chart's PNG costs (`npm run bench:charts`): for every chart of the diagnosis of each bundled example,
// the time to draw it as SVG (what the report and the notebook paid before) and as SVG then PNG (what show() pays
// now), in paired, alternating runs, and the PNG's size. Prints a markdown table for docs/performance.md.
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { diagnose } from "../src/diagnose/index.js";
import { loadSeries } from "../src/engine/series.js";
import { renderSvg } from "../src/present/display.js";
import { PNG_SCALE, svgToPng } from "../src/present/png.js";
import type { VegaLiteSpec } from "../src/charts/charts.js";

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const EXAMPLES = ["cache", "holder", "tree", "strbuf", "steady"];
const ROUNDS = 5;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function timed(f: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await f();
  return performance.now() - started;
}

interface Row { chart: string; svgMs: number; withPngMs: number; pngBytes: number; width: number; height: number }

async function measure(name: string, spec: VegaLiteSpec): Promise<Row> {
  const svgTimes: number[] = [];
  const bothTimes: number[] = [];
  let png = await svgToPng(await renderSvg(spec)); // warm: vega, resvg and the system fonts are loaded once
  for (let k = 0; k < ROUNDS; k++) {
    svgTimes.push(await timed(() => renderSvg(spec)));
    bothTimes.push(await timed(async () => (png = await svgToPng(await renderSvg(spec)))));
  }
  return { chart: name, svgMs: median(svgTimes), withPngMs: median(bothTimes), pngBytes: png.bytes.length, width: png.width, height: png.height };
}

const rows: Row[] = [];
for (const example of EXAMPLES) {
  const d = diagnose(await loadSeries(join(REPO, "examples", example, "snapshots")));
  for (const step of d.steps) {
    for (const [name, spec] of Object.entries(step.evidence.charts)) rows.push(await measure(`${example}: ${name}`, spec));
  }
}
console.log(`PNG at ${PNG_SCALE}x, median of ${ROUNDS} paired runs per chart\n`);
console.log("| chart | SVG ms | SVG + PNG ms | ratio | PNG KiB | shown at |");
console.log("|---|---:|---:|---:|---:|---|");
for (const r of rows) {
  console.log(`| ${r.chart} | ${r.svgMs.toFixed(0)} | ${r.withPngMs.toFixed(0)} | ${(r.withPngMs / r.svgMs).toFixed(2)} | ` +
    `${(r.pngBytes / 1024).toFixed(0)} | ${r.width}×${r.height} |`);
}
const ratios = rows.map((r) => r.withPngMs / r.svgMs);
const extra = rows.map((r) => r.withPngMs - r.svgMs);
const kib = rows.map((r) => r.pngBytes / 1024);
console.log(`\n${rows.length} charts: median ratio ${median(ratios).toFixed(2)}, median PNG cost ${median(extra).toFixed(0)} ms ` +
  `(max ${Math.max(...extra).toFixed(0)} ms), median PNG ${median(kib).toFixed(0)} KiB (max ${Math.max(...kib).toFixed(0)} KiB)`);
