// Executes every notebook in notebooks/ headless through real Jupyter with the committed tslab kernelspec, using
// test/helpers/run_notebook.py (nbclient), which fails on any error, stderr output, silent code cell or missing chart;
// then, on a capture taken here, checks what each front end shows of the charts: a PNG in every chart output, which
// classic Notebook picks even untrusted, and which nbconvert's HTML shows drawn in headless Chromium.
// Jupyter comes from Debian's packages (installed by .ci/run). Without it these tests fail with a clear message;
// LEAKBOOK_SKIP_NOTEBOOKS=1 skips them explicitly.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

import { CHROMIUM, chromiumMissing, pageLayout, screenshot } from "./helpers/chromium.js";
import { decodePng, inkIn } from "./helpers/png.js";
import { CLOSURES_PROGRAM } from "./helpers/programs.js";
import { agentAvailable, runPythonJson, tempDir } from "./helpers/python.js";

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const NOTEBOOKS = join(REPO, "notebooks");
const RUNNER = join(REPO, "test", "helpers", "run_notebook.py");
// Debian's Jupyter lives in the system interpreter; `python3` on PATH may be another one without it.
const PYTHON = process.env.LEAKBOOK_NOTEBOOK_PYTHON ?? "/usr/bin/python3";
const SKIP = process.env.LEAKBOOK_SKIP_NOTEBOOKS === "1";

function jupyterProblem(): string | null {
  if (!existsSync(PYTHON)) return `${PYTHON} not found`;
  const probe = spawnSync(PYTHON, ["-c", "import nbclient, nbconvert, nbformat, jupyter_client"], { encoding: "utf8" });
  if (probe.status !== 0) return `${PYTHON} cannot import nbclient/nbconvert/nbformat/jupyter_client`;
  if (!existsSync(join(REPO, "node_modules", "tslab", "bin", "tslab"))) return "node_modules/tslab is missing (run npm ci)";
  return null;
}

function notebooksIn(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith(".ipynb"))
    .map((e) => join(dir, e.name))
    .sort();
}

/** Runs the runner as if Jupyter had been started in `cwd` (a shell sets PWD, which the kernel inherits). */
function runFrom(cwd: string, notebook: string, env: Record<string, string>, ...args: string[]) {
  const r = spawnSync(PYTHON, [RUNNER, notebook, ...args], { cwd, env: { ...process.env, PWD: cwd, ...env }, encoding: "utf8", timeout: 15 * 60 * 1000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Runs a notebook on its default snapshots from a directory that does not hold them: found at the repository's root. */
function runNotebook(path: string): { status: number | null; stdout: string; stderr: string } {
  const env = { ...process.env };
  delete env.LEAKBOOK_SNAPSHOTS;
  const elsewhere = tempDir("leakbook-nb-");
  try {
    const r = spawnSync(PYTHON, [RUNNER, path], { cwd: elsewhere, env: { ...env, PWD: elsewhere }, encoding: "utf8", timeout: 15 * 60 * 1000 });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  } finally {
    rmSync(elsewhere, { recursive: true, force: true });
  }
}

const problem = jupyterProblem();
const skipReason = SKIP ? "LEAKBOOK_SKIP_NOTEBOOKS=1" : false;

test("Jupyter with nbclient is available for the notebook tests", { skip: skipReason }, () => {
  assert.equal(
    problem,
    null,
    `notebook tests need Jupyter: ${problem}. Install it with .ci/run (Debian: apt-get install jupyter-nbconvert ` +
      `python3-nbclient jupyter-client), point LEAKBOOK_NOTEBOOK_PYTHON at a python with nbclient, ` +
      `or set LEAKBOOK_SKIP_NOTEBOOKS=1 to skip them.`,
  );
});

test("notebooks/ holds notebooks to run", () => {
  assert.ok(notebooksIn(NOTEBOOKS).length > 0, `no .ipynb files in ${NOTEBOOKS}`);
});

for (const notebook of notebooksIn(NOTEBOOKS)) {
  const name = notebook.slice(REPO.length + 1);
  test(`${name} runs cleanly under the tslab kernel`, { skip: skipReason || (problem !== null && "Jupyter missing, see above") }, () => {
    const r = runNotebook(notebook);
    assert.equal(r.status, 0, `${name} failed:\n${r.stderr}${r.stdout}`);
  });
}

const DIAGNOSIS = join(NOTEBOOKS, "diagnosis.ipynb");
const VEGA_LITE = "application/vnd.vegalite.v5+json";
const needsJupyter = skipReason || (problem !== null && "Jupyter missing, see above") || (!agentAvailable() && "capture agent missing");

type Output = { output_type: string; text?: string | string[]; data?: Record<string, unknown>; metadata?: Record<string, { width?: number; height?: number }> };

/**
 * What classic Notebook (6) shows of a display_data: the first type of its display order the bundle has, skipping,
 * in a notebook that is not trusted, the types it cannot sanitise (only text, LaTeX, PNG, JPEG and GIF are safe;
 * HTML is sanitised; SVG and JavaScript are dropped). Its display order knows no vega-lite.
 */
function classicNotebookShows(data: Record<string, unknown>, trusted: boolean): string | null {
  const order = ["application/javascript", "text/html", "text/markdown", "text/latex", "image/svg+xml", "image/png",
    "image/jpeg", "image/gif", "application/pdf", "text/plain"];
  const safe = new Set(["text/plain", "text/latex", "image/png", "image/jpeg", "image/gif"]);
  return order.find((type) => type in data && (trusted || safe.has(type) || type === "text/html")) ?? null;
}

test("diagnosis.ipynb finds a relative LEAKBOOK_SNAPSHOTS from where Jupyter was started; every chart is a PNG that nbconvert's HTML shows drawn in Chromium", { skip: needsJupyter || (chromiumMissing && `${CHROMIUM} not installed`) }, (t) => {
  const dir = tempDir("leakbook-nb-");
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, "snaps"));
  runPythonJson(CLOSURES_PROGRAM, join(dir, "snaps"));
  const executed = join(dir, "executed.ipynb");
  const r = runFrom(dir, DIAGNOSIS, { LEAKBOOK_SNAPSHOTS: "snaps" }, "--output", executed);
  assert.equal(r.status, 0, `${r.stderr}${r.stdout}`);
  const notebook = JSON.parse(readFileSync(executed, "utf8")) as { cells: { cell_type: string; outputs?: Output[] }[] };
  const outputs = notebook.cells.flatMap((c) => c.outputs ?? []);
  const text = (o: Output) => (Array.isArray(o.text) ? o.text.join("") : o.text ?? "");
  assert.match(outputs.map(text).join(""), new RegExp(`4 snapshot\\(s\\) of pid \\d+ from ${join(dir, "snaps")}\\n`));
  // Tables with hex addresses only, and the findings' evidence as labelled tables.
  const tables = outputs.map((o) => String(o.data?.["text/html"] ?? "")).join("\n");
  assert.doesNotMatch(tables, /\d{3},\d{3},\d{3},\d{3}/, "no address with thousands separators");
  assert.match(outputs.map(text).join(""), /Evidence of finding 1 \(closure-retention, from step holders\):/);
  assert.match(tables, /<th[^>]*>evidence<\/th><th[^>]*>value<\/th>[\s\S]*?>counts<\/td><td[^>]*>150 · 300 · 450 · 600<\/td>/);

  // Every chart: the vega-lite spec, a PNG drawn at twice its display size, a line of text, and no SVG.
  const charts = outputs.filter((o) => o.output_type === "display_data" && o.data && VEGA_LITE in o.data);
  assert.ok(charts.length >= 7, `${charts.length} charts`);
  for (const chart of charts) {
    const data = chart.data as Record<string, unknown>;
    assert.deepEqual(Object.keys(data), [VEGA_LITE, "image/png", "text/plain"]);
    const size = chart.metadata?.["image/png"] ?? {};
    const png = decodePng(Buffer.from(String(data["image/png"]), "base64"));
    assert.deepEqual([png.width, png.height], [2 * (size.width ?? 0), 2 * (size.height ?? 0)], String(data["text/plain"]));
    const drawn = inkIn(png, { x: 0, y: 0, width: png.width, height: png.height });
    assert.ok(drawn.ink > 0.02 && drawn.colour > 0.005, `${data["text/plain"]}: ${JSON.stringify(drawn)}`);
    // Classic Notebook shows the PNG, trusted or not (an executed notebook opens "Not Trusted").
    assert.equal(classicNotebookShows(data, false), "image/png");
    assert.equal(classicNotebookShows(data, true), "image/png");
  }

  // nbconvert's HTML export embeds each PNG at its display size; Chromium draws every one of them.
  const converted = spawnSync(PYTHON, ["-m", "nbconvert", "--to", "html", executed, "--output-dir", dir], { encoding: "utf8", timeout: 300_000 });
  assert.equal(converted.status, 0, converted.stderr);
  const html = join(dir, "executed.html");
  assert.doesNotMatch(readFileSync(html, "utf8"), /<svg[\s>]/, "no SVG for nbconvert to strip");
  const layout = pageLayout(html, ['img[src^="data:image/png"]', ".jp-MarkdownCell"]);
  const [images, markdown] = layout.boxes;
  assert.deepEqual(images.map((b) => [b.width, b.height]), charts.map((c) => [c.metadata?.["image/png"]?.width, c.metadata?.["image/png"]?.height]));
  const shot = decodePng(screenshot(html, Math.ceil(layout.height)));
  for (const [k, box] of images.entries()) {
    const drawn = inkIn(shot, box);
    assert.ok(drawn.ink > 0.02 && drawn.colour > 0.005, `chart ${k + 1} (${charts[k].data?.["text/plain"]}) in the screenshot: ${JSON.stringify(drawn)}`);
  }
  // The detector tells charts from text: the markdown cells have ink but next to no colour.
  for (const box of markdown.filter((b) => b.height > 40)) {
    const drawn = inkIn(shot, box);
    assert.ok(drawn.ink > 0.005 && drawn.colour < 0.005, `a markdown cell: ${JSON.stringify(drawn)}`);
  }
});

test("a LEAKBOOK_SNAPSHOTS found nowhere stops the notebook with one line naming every path tried", { skip: needsJupyter }, (t) => {
  const dir = tempDir("leakbook-nb-");
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const r = runFrom(dir, DIAGNOSIS, { LEAKBOOK_SNAPSHOTS: "no-such-snapshots" });
  assert.equal(r.status, 1, `${r.stderr}${r.stdout}`);
  const stderr = r.stderr.split("---- stderr ----\n")[1] ?? "";
  const tried = [dir, NOTEBOOKS, REPO].map((base) => join(base, "no-such-snapshots")).join(", ");
  assert.equal(stderr.trim(), `[leakbook: no snapshots at no-such-snapshots: tried ${tried}]`);
});

// The runner must itself catch the failures tslab hides (no Jupyter error message, only stderr and a status).
test("the runner rejects a notebook whose cell throws or stays silent", { skip: skipReason || (problem !== null && "Jupyter missing, see above") }, () => {
  const dir = mkdtempSync(join(tmpdir(), "leakbook-nb-"));
  try {
    const cases: Record<string, { source: string; expect: RegExp }> = {
      throws: { source: 'throw new Error("planted failure");', expect: /execution status 'error'[\s\S]*planted failure/ },
      silent: { source: "const quiet = 1;", expect: /produced no output[\s\S]*const quiet = 1;/ },
    };
    for (const [caseName, { source, expect }] of Object.entries(cases)) {
      const path = join(dir, `${caseName}.ipynb`);
      writeFileSync(path, JSON.stringify(minimalNotebook(['console.log("first");', source, 'console.log("last");'])));
      const r = runNotebook(path);
      assert.equal(r.status, 1, `${caseName}: expected the runner to fail\n${r.stdout}${r.stderr}`);
      assert.match(r.stderr, expect, `${caseName}: the runner's message should name the problem and show the cell`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

function minimalNotebook(sources: string[]): object {
  return {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: { kernelspec: { name: "tslab", display_name: "TypeScript (leakbook, tslab)", language: "typescript" } },
    cells: sources.map((source, i) => ({ cell_type: "code", id: `cell-${i}`, metadata: {}, execution_count: null, outputs: [], source })),
  };
}
