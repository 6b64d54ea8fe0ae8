// The fleet section of the HTML report: the verdict across processes, the charts (inline SVG), and the tables of
// processes, shared holders and growing types. Every string from a snapshot (host names, paths, types) is escaped.
import { fleetGrowthHeatmap, fleetRateChart } from "../fleet/charts.js";
import type { Fleet } from "../fleet/index.js";
import { escapeHtml, renderHtml, renderSvg } from "./display.js";
import type { VegaLiteSpec } from "../charts/charts.js";

async function figure(name: string, spec: VegaLiteSpec): Promise<string> {
  try {
    return `<figure class="chart" data-chart="${escapeHtml(name)}">${await renderSvg(spec)}</figure>`;
  } catch (error) {
    return `<p class="meta">Chart ${escapeHtml(name)} could not be drawn: ${escapeHtml(String((error as Error).message ?? error))}</p>`;
  }
}

export async function fleetSectionHtml(f: Fleet, maxRows = 50): Promise<string> {
  const processes = f.processes.select(
    "label", "snapshots", "verdict", "objects", "bytes", "bytes_per_hour", "rss_per_hour", "rate_score", "size_score", "rate_outlier", "size_outlier", "error");
  const charts = [await figure("fleet-rate", fleetRateChart(f.processes))];
  if (f.typeProcesses.numRows() > 0) charts.push(await figure("fleet-heatmap", fleetGrowthHeatmap(f.typeProcesses)));
  const table = (title: string, rows: number, html: string) =>
    `<h3>${escapeHtml(title)}</h3>${rows > 0 ? html : "<p class=\"meta\">None.</p>"}`;
  return `<section class="fleet" id="fleet">
<h2>Fleet: ${f.processes.numRows()} processes</h2>
<p class="a">${escapeHtml(f.summary)}</p>
${charts.join("\n")}
${table("Processes", f.processes.numRows(), renderHtml(processes, { maxRows }))}
${table("Holders named by the diagnoses, most processes first", f.holders.numRows(), renderHtml(f.holders, { maxRows }))}
${table("Types that grow, most processes first", f.types.numRows(), renderHtml(f.types, { maxRows }))}
<p class="meta">Rates are least-squares slopes over each process's snapshots; outliers have a robust z-score above 3.5
(distance from the fleet's median in units of 1.4826 median absolute deviations). The queries: docs/export.md.</p>
</section>`;
}
