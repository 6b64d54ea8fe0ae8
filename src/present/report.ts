// The HTML report: one self-contained file with the verdict, the ranked findings and every checklist step with its
// charts (SVG rendered here, so no script is needed to see them) and tables. Every string from a snapshot is
// escaped, and a Content-Security-Policy forbids scripts and network fetches should anything slip through.
import type { Diagnosis, Finding, StepResult } from "../diagnose/index.js";
import { escapeHtml, renderHtml, renderSvg } from "./display.js";
import { evidenceRows } from "./evidence.js";
import type { Snapshot } from "../engine/snapshot.js";
import type { Fleet } from "../fleet/index.js";
import { fleetSectionHtml } from "./fleet.js";

export interface ReportOptions {
  /** What was analysed, as the user named it (a directory or files). */
  source: string;
  /** The snapshots, for the process and time facts in the header. */
  snapshots?: readonly Snapshot[];
  /** Rows shown per table (default 15). */
  maxRows?: number;
}

const STYLE = `
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #222; margin: 0 auto; max-width: 980px; padding: 16px 24px 48px; }
h1 { font-size: 22px; margin: 8px 0; } h2 { font-size: 18px; margin-top: 32px; border-bottom: 1px solid #ddd; } h3 { font-size: 15px; margin: 0 0 6px; }
code { font: 12.5px ui-monospace, SFMono-Regular, Menlo, monospace; background: #f4f4f4; padding: 1px 4px; border-radius: 3px; word-break: break-all; }
.verdict { display: inline-block; padding: 4px 12px; border-radius: 4px; font-weight: 600; color: #fff; }
.v-leak { background: #c62828; } .v-no-leak { background: #2e7d32; } .v-native-or-fragmentation { background: #ef6c00; } .v-inconclusive { background: #616161; }
.badge { display: inline-block; min-width: 44px; text-align: center; font-size: 11px; font-weight: 600; padding: 1px 6px; border-radius: 3px; color: #fff; margin-right: 6px; }
.s-high, .st-leak { background: #c62828; } .s-medium, .st-warn { background: #ef6c00; } .s-low { background: #f9a825; } .s-info, .st-info, .st-skipped { background: #757575; } .st-ok { background: #2e7d32; }
.finding, .step { border: 1px solid #e0e0e0; border-radius: 6px; padding: 10px 14px; margin: 12px 0; }
.meta { color: #555; font-size: 13px; } .q { color: #555; margin: 2px 0; } .a { margin: 4px 0 8px; }
figure { margin: 12px 0; overflow-x: auto; } figure svg { max-width: 100%; height: auto; }
details { margin: 6px 0; }
.leakbook-table { overflow-x: auto; margin: 8px 0; }
table.evidence { border-collapse: collapse; font-size: 12px; margin: 6px 0; }
table.evidence th { text-align: left; font-weight: 600; color: #555; padding: 1px 12px 1px 0; white-space: nowrap; }
table.evidence td { padding: 1px 0; font: 12px ui-monospace, SFMono-Regular, Menlo, monospace; white-space: nowrap; }
`;

function findingHtml(f: Finding, rank: number): string {
  return `<div class="finding" id="finding-${rank}">
<h3><span class="badge s-${f.severity}">${f.severity}</span>${rank}. ${escapeHtml(f.kind)}: ${escapeHtml(f.title)}</h3>
${f.type ? `<div class="meta">type <code>${escapeHtml(f.type)}</code></div>` : ""}
<div class="meta">path ${f.path ? `<code class="path">${escapeHtml(f.path)}</code>` : "(none)"}</div>
${f.reason ? `<p class="meta">${escapeHtml(f.reason)}</p>` : ""}
${f.catalogue ? `<p><strong>Library registry:</strong> ${escapeHtml(f.catalogue.registry)}, fed by ${escapeHtml(f.catalogue.fed_by)}.</p>` : ""}
${clusterHtml(f)}
<p><strong>Fix:</strong> ${escapeHtml(f.remedy)}</p>
<details><summary>Evidence (from step ${escapeHtml(f.step)})</summary>${evidenceHtml(f)}</details>
</div>`;
}

/** The evidence as a small table of labelled figures in human units. */
function evidenceHtml(f: Finding): string {
  const rows = evidenceRows(f.evidence).map((r) => `<tr><th>${escapeHtml(r.label)}</th><td>${escapeHtml(r.value)}</td></tr>`);
  return `<table class="evidence">${rows.join("")}</table>`;
}

/** The new objects a finding's holder keeps: member types, a few entries, and one member to follow with `paths`. */
function clusterHtml(f: Finding): string {
  const parts: string[] = [];
  if (f.cluster) {
    const members = f.cluster.members.map((m) => `<li>${m.count.toLocaleString("en-US")} <code>${escapeHtml(m.type)}</code></li>`).join("");
    parts.push(`<div class="meta">${f.cluster.new_objects.toLocaleString("en-US")} objects the first snapshot did not have:</div><ul>${members}</ul>`);
    if (f.cluster.entries.length > 0) {
      parts.push(`<div class="meta">new entries: ${f.cluster.entries.map((e) => `<code>${escapeHtml(e)}</code>`).join(" ")}</div>`);
    }
  }
  if (f.sample) {
    parts.push(`<div class="meta">e.g. <code>${escapeHtml(f.sample.address)}</code> <code>${escapeHtml(f.sample.type)}</code> at ` +
      `${f.sample.path ? `<code class="path">${escapeHtml(f.sample.path)}</code>` : "(no path)"}</div>`);
  }
  return parts.join("\n");
}

async function chartHtml(name: string, spec: StepResult["evidence"]["charts"][string]): Promise<string> {
  try {
    return `<figure class="chart" data-chart="${escapeHtml(name)}">${await renderSvg(spec)}</figure>`;
  } catch (error) {
    return `<p class="meta">Chart ${escapeHtml(name)} could not be drawn: ${escapeHtml(String((error as Error).message ?? error))}</p>`;
  }
}

async function stepHtml(s: StepResult, maxRows: number): Promise<string> {
  const charts: string[] = [];
  for (const [name, spec] of Object.entries(s.evidence.charts)) charts.push(await chartHtml(name, spec));
  const tables = Object.entries(s.evidence.tables).map(([name, table]) =>
    `<details${s.status === "leak" ? " open" : ""}><summary>Table <code>${escapeHtml(name)}</code> (${table.numRows()} rows)</summary>${renderHtml(table, { maxRows })}</details>`);
  // The sidebar's title says it is the sidebar ("Sidebar: process memory ..."); steps get their number.
  const heading = s.number === 0 ? escapeHtml(s.title) : `Step ${s.number}. ${escapeHtml(s.title)}`;
  return `<section class="step" id="step-${escapeHtml(s.id)}">
<h3><span class="badge st-${s.status}">${s.status}</span>${heading}</h3>
<p class="q">${escapeHtml(s.question)}</p>
<p class="a">${escapeHtml(s.answer)}</p>
<div class="meta">Reproduce with <code>${escapeHtml(s.query)}</code></div>
${charts.join("\n")}
${tables.join("\n")}
</section>`;
}

function headerFacts(opts: ReportOptions): string {
  const snaps = opts.snapshots ?? [];
  const facts = [`source <code>${escapeHtml(opts.source)}</code>`];
  if (snaps.length > 0) {
    const first = snaps[0].meta;
    const last = snaps[snaps.length - 1].meta;
    facts.push(`${snaps.length} snapshot${snaps.length === 1 ? "" : "s"}, ${escapeHtml(String(first.time ?? ""))} to ${escapeHtml(String(last.time ?? ""))}`);
    if (first.pid) facts.push(`pid ${escapeHtml(String(first.pid))}`);
    if (first.python?.version) facts.push(`Python ${escapeHtml(String(first.python.version))}`);
  }
  return facts.join(" · ");
}

/** The whole report as one HTML document. */
export async function renderReport(d: Diagnosis, opts: ReportOptions): Promise<string> {
  const maxRows = opts.maxRows ?? 15;
  const steps: string[] = [];
  for (const s of d.steps) steps.push(await stepHtml(s, maxRows));
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>leakbook report: ${escapeHtml(d.verdict)}</title>
<style>${STYLE}</style>
</head>
<body>
<h1>leakbook report</h1>
<p><span class="verdict v-${d.verdict}">${escapeHtml(d.verdict)}</span> ${escapeHtml(d.summary)}</p>
<p class="meta">${headerFacts(opts)}</p>
<h2>Findings, most likely cause first</h2>
${d.findings.length > 0 ? d.findings.map((f, k) => findingHtml(f, k + 1)).join("\n") : "<p>No findings.</p>"}
<h2>Checklist</h2>
${steps.join("\n")}
<p class="meta">Written by leakbook. Paths are Python expressions that evaluate to the object in the live process.</p>
</body>
</html>
`;
}

/** The fleet report: one self-contained HTML document with the fleet section (present/fleet.ts). */
export async function renderFleetReport(fleet: Fleet, opts: { source: string; maxRows?: number }): Promise<string> {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>leakbook fleet report</title>
<style>${STYLE}</style>
</head>
<body>
<h1>leakbook fleet report</h1>
<p class="meta">source <code>${escapeHtml(opts.source)}</code></p>
${await fleetSectionHtml(fleet, opts.maxRows ?? 50)}
<p class="meta">Written by leakbook. Paths are Python expressions that evaluate to the holder in each live process.</p>
</body>
</html>
`;
}
