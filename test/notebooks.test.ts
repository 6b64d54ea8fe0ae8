// Executes every notebook in notebooks/ headless through real Jupyter with the committed tslab kernelspec, using
// test/helpers/run_notebook.py (nbclient), which fails on any error, stderr output, silent code cell or missing chart.
// Jupyter comes from Debian's packages (installed by .ci/run). Without it these tests fail with a clear message;
// LEAKBOOK_SKIP_NOTEBOOKS=1 skips them explicitly.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const NOTEBOOKS = join(REPO, "notebooks");
const RUNNER = join(REPO, "test", "helpers", "run_notebook.py");
// Debian's Jupyter lives in the system interpreter; `python3` on PATH may be another one without it.
const PYTHON = process.env.LEAKBOOK_NOTEBOOK_PYTHON ?? "/usr/bin/python3";
const SKIP = process.env.LEAKBOOK_SKIP_NOTEBOOKS === "1";

function jupyterProblem(): string | null {
  if (!existsSync(PYTHON)) return `${PYTHON} not found`;
  const probe = spawnSync(PYTHON, ["-c", "import nbclient, nbformat, jupyter_client"], { encoding: "utf8" });
  if (probe.status !== 0) return `${PYTHON} cannot import nbclient/nbformat/jupyter_client`;
  if (!existsSync(join(REPO, "node_modules", "tslab", "bin", "tslab"))) return "node_modules/tslab is missing (run npm ci)";
  return null;
}

function notebooksIn(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith(".ipynb"))
    .map((e) => join(dir, e.name))
    .sort();
}

function runNotebook(path: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(PYTHON, [RUNNER, path], { encoding: "utf8", timeout: 15 * 60 * 1000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
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
