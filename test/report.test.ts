// The HTML report: one self-contained file with the checklist, the charts as inline SVG and the findings; its words,
// tables and evidence read well (plurals, counts, what grew, hex addresses, the culprit first); hostile strings from a
// captured heap appear only escaped; an existing file is never replaced without --force; and headless Chromium, with
// the network off, renders the charts without a console error.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CHROMIUM, chromiumMissing, consoleProblems, openInChromium } from "./helpers/chromium.js";
import { CLOSURES_PROGRAM } from "./helpers/programs.js";
import { agentAvailable, CLI, REPO, runPythonJson, tempDir } from "./helpers/python.js";
import { makeContext } from "../src/diagnose/context.js";
import { cachesStep } from "../src/diagnose/step-caches.js";
import { loadSeries } from "../src/engine/series.js";

function leakbook(...args: string[]) {
  const result = spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8", timeout: 120_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

const example = (name: string) => join(REPO, "examples", name, "snapshots");

function writeReport(input: string): string {
  const out = join(tempDir(), "report.html");
  const result = leakbook("report", input, "-o", out);
  assert.equal(result.status, 0, result.stderr);
  assert.match(result.stdout, /wrote .*report\.html/);
  return readFileSync(out, "utf8");
}

test("report: one self-contained file with the verdict, findings, paths, every step and its charts as SVG", () => {
  const html = writeReport(example("cache"));
  assert.match(html, /^<!doctype html>/);
  assert.match(html, /<span class="verdict v-leak">leak<\/span>/);
  // Nothing to fetch and nothing to run: no script, no external reference, a policy that forbids both.
  assert.doesNotMatch(html, /<script/i);
  assert.doesNotMatch(html, /\b(src|href)\s*=\s*["']?(https?:)?\/\//i);
  assert.doesNotMatch(html, /<link\b/i);
  assert.match(html, /Content-Security-Policy" content="default-src 'none'/);
  for (let n = 1; n <= 8; n++) assert.match(html, new RegExp(`Step ${n}\\. `));
  // The sidebar's heading is its title, once: "Sidebar: process memory ...", never "Sidebar. Sidebar: ...".
  assert.match(html, /<\/span>Sidebar: process memory against Python objects<\/h3>/);
  assert.doesNotMatch(html, /Sidebar\. /);
  // The census, memory, type growth, type history, cache lengths, survivors and string charts, each with marks.
  const charts = html.match(/<figure class="chart"[^>]*><svg[\s\S]*?<\/svg><\/figure>/g) ?? [];
  assert.ok(charts.length >= 7, `${charts.length} charts`);
  for (const chart of charts) assert.match(chart, /class="mark-(line|symbol|rect|point)[^"]*"/);
  assert.match(html, /<code class="path">sys\.modules\[&#39;__main__&#39;\]\._profile_cache<\/code>/);
  assert.match(html, /<code class="path">sys\.modules\[&#39;__main__&#39;\]\.render_badge<\/code>/);
  assert.match(html, /maxsize/);
  // Each holder's cluster: what it gained, its member types, one member to follow with `leakbook paths`.
  assert.match(html, /objects the first snapshot did not have:<\/div><ul><li>[\d,]+ <code>__main__\.UserProfile<\/code>/);
  assert.match(html, /e\.g\. <code>0x[0-9a-f]+<\/code> <code>[^<]+<\/code> at <code class="path">sys\.modules\[&#39;__main__&#39;\]\._profile_cache\[/);
});

// A program whose growing holder sits under attribute and key names that are HTML.
const HOSTILE_PROGRAM = String.raw`
import gc, json, os, sys
import leakbook

OUT = sys.argv[1]
EVIL = "<img src=x onerror=alert(1)>"

globals()[EVIL] = []
LOG = {EVIL: ""}
SESSIONS = {}

def work(r):
    for i in range(300):
        globals()[EVIL].append("%s %d %d " % (EVIL, r, i) * 3)
        SESSIONS["%s#%d-%d" % (EVIL, r, i)] = [r, i]
    LOG[EVIL] += "%s round %d; " % (EVIL, r) * 400

warm = os.path.join(OUT, "warm-up.lbsnap")
leakbook.snapshot(warm)
os.remove(warm)
for r in range(4):
    work(r)
    gc.collect()
    leakbook.snapshot(os.path.join(OUT, "hostile-%d.lbsnap" % r))
print(json.dumps({"dir": OUT}))
`;

test("report: strings from the heap appear only escaped, in text, tables and charts", { skip: !agentAvailable() }, () => {
  const dir = mkdtempSync(join(tmpdir(), "leakbook-hostile-"));
  runPythonJson(HOSTILE_PROGRAM, dir);
  const html = writeReport(dir);
  assert.doesNotMatch(html, /<img/i);
  assert.doesNotMatch(html, /onerror=alert\(1\)>/);
  // The growing holders are named through the hostile keys, escaped, in the findings and in the chart legend.
  const escaped = "&lt;img src=x onerror=alert(1)&gt;";
  assert.ok(html.includes(`<code class="path">sys.modules[&#39;__main__&#39;].__dict__[&#39;${escaped}&#39;]</code>`), "container path");
  assert.ok(html.includes(`<code class="path">sys.modules[&#39;__main__&#39;].LOG[&#39;${escaped}&#39;]</code>`), "string path");
  const legend = (html.match(/<figure class="chart" data-chart="cacheLengths">[\s\S]*?<\/figure>/) ?? [""])[0];
  assert.ok(legend.includes(escaped), "chart legend");
});

/** The rows of the table named `name` in a report section, as lists of cell texts (tags stripped, entities kept). */
function tableRows(section: string, name: string): string[][] {
  const table = new RegExp(`<summary>Table <code>${name}</code>[\\s\\S]*?</table>`).exec(section)?.[0] ?? "";
  return [...table.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].map((row) => [...row[1].matchAll(/<t[dh][^>]*>([\s\S]*?)<\/t[dh]>/g)].map((c) => c[1]));
}

function section(html: string, id: string): string {
  return new RegExp(`<section class="step" id="step-${id}">[\\s\\S]*?</section>`).exec(html)?.[0] ?? "";
}

test("report: words, tables and evidence for people (plurals, counts, what grew, hex, the culprit first)", { skip: !agentAvailable() }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "leakbook-closures-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  runPythonJson(CLOSURES_PROGRAM, dir);
  const html = writeReport(dir);

  // Plurals: one container grows; the defaultdict's own candidate says "a defaultdict of 1 entry".
  assert.match(section(html, "caches"), /Yes: 1 container grows over the series: sys\.modules\[&#39;__main__&#39;\]\.BY_USER\./);
  const ctx = makeContext((await loadSeries(dir)).snapshots);
  const titles = cachesStep(ctx).candidates.map((c) => c.title);
  assert.ok(titles.some((t) => t.startsWith("a defaultdict of 1 entry keeps more")), titles.join("\n"));
  assert.doesNotMatch(html, /\b1 (entries|containers|types|objects)\b|\b1 container grow\b/);

  // Step 2 names as many types as it counts.
  const answer = /<p class="a">(\d+) types? grows? steadily(?:, most bytes first)?: ([^.]*(?:\.[^ .][^.]*)*)\./.exec(section(html, "types"));
  assert.ok(answer, section(html, "types"));
  assert.equal(answer[2].split(", ").length, Number(answer[1]), answer[0]);

  // The growth table lists only types that grew.
  const growth = tableRows(section(html, "types"), "typeGrowth");
  const deltaColumn = growth[0].indexOf("delta_count");
  assert.ok(growth.length > 1 && deltaColumn >= 0);
  for (const row of growth.slice(1)) assert.ok(Number(row[deltaColumn].replace(/,/g, "")) > 0, row.join(" | "));

  // Step 6: the culprit is the first row, and the program's holds come before the standard library's.
  const holds = tableRows(section(html, "holders"), "holders");
  const [header, first] = holds;
  assert.equal(first[header.indexOf("kind")], "closure");
  assert.match(first[header.indexOf("holder")], /BY_USER\[&#39;alice&#39;\]\[\*\]/);
  assert.equal(first[header.indexOf("finding")], "true");
  const owners = holds.slice(1).map((row) => row[header.indexOf("owner")]);
  assert.ok(owners.includes("library"), "the standard library's closures are listed too");
  assert.equal(owners.indexOf("library"), owners.filter((o) => o === "program").length, `program rows first: ${owners.join(" ")}`);

  // Evidence as small labelled tables, in human units; no raw JSON anywhere.
  const evidence = /<table class="evidence">[\s\S]*?<\/table>/.exec(html)?.[0] ?? "";
  assert.match(evidence, /<tr><th>counts<\/th><td>150 · 300 · 450 · 600<\/td><\/tr>/);
  assert.match(evidence, /<tr><th>retained sizes<\/th><td>[\d.]+ KiB · [\d.]+ KiB · [\d.]+ (KiB|MiB) · [\d.]+ MiB<\/td><\/tr>/);
  assert.doesNotMatch(html, /<pre>|\{&quot;|\[\s*\d+,\s*\d+/);

  // Addresses in hex only: nothing that looks like an id() with thousands separators.
  assert.doesNotMatch(html, /\d{3},\d{3},\d{3},\d{3}/);
  assert.match(section(html, "holders") + html, /0x[0-9a-f]{6,}/);
});

test("report: refuses to replace an existing file unless --force, and leaves no temporary file", () => {
  const dir = tempDir();
  const out = join(dir, "report.html");
  writeFileSync(out, "keep me");
  const refused = leakbook("report", example("steady"), "-o", out);
  assert.equal(refused.status, 2);
  assert.equal(refused.stdout, "");
  assert.match(refused.stderr, /^leakbook: .*report\.html exists; pass --force/);
  assert.equal(readFileSync(out, "utf8"), "keep me");
  const forced = leakbook("report", example("steady"), "-o", out, "--force");
  assert.equal(forced.status, 0, forced.stderr);
  assert.match(readFileSync(out, "utf8"), /<span class="verdict v-no-leak">no-leak<\/span>/);
  assert.deepEqual(readdirSync(dir), ["report.html"]);
  const missingDir = leakbook("report", example("steady"), "-o", join(dir, "no", "such", "dir.html"));
  assert.equal(missingDir.status, 2);
  assert.equal(missingDir.stderr, `leakbook: report: cannot write ${join(dir, "no", "such", "dir.html")}: directory ${join(dir, "no", "such")} does not exist\n`);
});

test("report -o writes regular files only: a FIFO, a device, a directory or a symbolic link is refused, with or without --force", () => {
  const dir = tempDir();
  const fifo = join(dir, "pipe.html");
  assert.equal(spawnSync("mkfifo", [fifo]).status, 0, "mkfifo");
  const kept = join(dir, "kept.html");
  writeFileSync(kept, "keep me");
  const link = join(dir, "link.html");
  symlinkSync(kept, link);
  const folder = join(dir, "folder.html");
  mkdirSync(folder);
  for (const [target, expected] of [
    [fifo, /pipe\.html is a FIFO \(named pipe\); the report is written to a regular file only$/],
    ["/dev/null", /\/dev\/null is a character device; the report is written to a regular file only$/],
    [folder, /folder\.html is a directory; the report is written to a regular file only$/],
    [link, /link\.html is a symbolic link; the report is written to a regular file only$/],
  ] as const) {
    for (const force of [[], ["--force"]]) {
      const result = leakbook("report", example("steady"), "-o", target, ...force);
      assert.equal(result.status, 2, `${target} ${force}: ${result.stderr}`);
      assert.match(result.stderr.trimEnd(), expected);
      assert.equal(result.stderr.split("\n").length, 2, result.stderr);
    }
  }
  assert.ok(lstatSync(fifo).isFIFO() && lstatSync(link).isSymbolicLink() && lstatSync(folder).isDirectory(), "all left as they were");
  assert.equal(readFileSync(kept, "utf8"), "keep me", "nothing written through the link");
  assert.deepEqual(readdirSync(dir).sort(), ["folder.html", "kept.html", "link.html", "pipe.html"], "no temporary file");
});

test("report -o: a write that fails (a file size limit: EFBIG) is one line and leaves neither the report nor its temporary file", { skip: spawnSync("prlimit", ["--version"]).status !== 0 && "prlimit not installed" }, () => {
  const dir = tempDir();
  const out = join(dir, "report.html");
  const limited = (...args: string[]) => {
    const result = spawnSync("prlimit", ["--fsize=4096", process.execPath, CLI, ...args], { encoding: "utf8", timeout: 120_000 });
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
  };
  const failed = limited("report", example("steady"), "-o", out);
  assert.equal(failed.status, 2, failed.stderr);
  assert.equal(failed.stderr, `leakbook: cannot write ${out}: file too large (a file size limit, ulimit -f?)\n`);
  assert.deepEqual(readdirSync(dir), [], "no report, no temporary file");
  writeFileSync(out, "keep me");
  const forced = limited("report", example("steady"), "-o", out, "--force");
  assert.equal(forced.status, 2, forced.stderr);
  assert.equal(readFileSync(out, "utf8"), "keep me", "the file --force would replace is untouched");
  assert.deepEqual(readdirSync(dir), ["report.html"]);
});

test("report opens in headless Chromium with the network off: charts render, no console error", { skip: chromiumMissing && `${CHROMIUM} not installed` }, () => {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: .ci/run installs Debian's chromium package`);
  const dir = tempDir();
  // The detector itself: a page that logs an error and throws must be caught.
  const control = join(dir, "control.html");
  writeFileSync(control, "<!doctype html><p>control</p><script>console.error('control error'); throw new Error('control')</script>");
  const bad = openInChromium(control);
  assert.ok(consoleProblems(bad.log).length >= 1, `the console detector sees the control page's errors:\n${bad.log}`);

  const out = join(dir, "report.html");
  const written = leakbook("report", example("holder"), "-o", out);
  assert.equal(written.status, 0, written.stderr);
  const { dom, log, status } = openInChromium(out);
  assert.equal(status, 0, log);
  assert.deepEqual(consoleProblems(log), []);
  const svgs = dom.match(/<svg[\s\S]*?<\/svg>/g) ?? [];
  assert.ok(svgs.length >= 7, `${svgs.length} charts in the DOM`);
  for (const svg of svgs) {
    // Every chart has drawn marks: paths with geometry inside a mark group.
    assert.match(svg, /class="mark-[a-z]+ role-mark/);
    assert.match(svg, /<path[^>]* d="M[^"]+"/);
  }
  assert.match(dom, /traceback-retention/);
});
