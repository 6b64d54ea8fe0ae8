// Hostile names from a real capture (test/helpers/hostile.ts) reach no terminal and no SVG raw: every command's
// output and error messages, the text rendering of tables and the charts.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadSeries } from "../src/engine/series.js";
import { typeGrowth, typeHistory } from "../src/queries/types.js";
import { typeGrowthChart, typeHistoryChart } from "../src/charts/charts.js";
import { renderSvg, renderText } from "../src/present/display.js";
import { terminalJson, terminalText, xmlText } from "../src/common/escape.js";
import { agentAvailable, CLI, tempDir } from "./helpers/python.js";
import { EVIL, hostileCapture, TERMINAL_UNSAFE } from "./helpers/hostile.js";
import { checkWellFormedXml } from "./helpers/xml.js";

const noAgent = !agentAvailable() && "python/leakbook.py not present";

function leakbook(...args: string[]) {
  const result = spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8", timeout: 120_000 });
  assert.equal(result.error, undefined, `leakbook ${args[0]}: ${result.error?.message}`);
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** No unsafe character raw in either stream, and nothing that looks like a stack trace. */
function assertSafe(result: { stdout: string; stderr: string }, what: string): void {
  for (const [name, text] of [["stdout", result.stdout], ["stderr", result.stderr]]) {
    const found = TERMINAL_UNSAFE.exec(text);
    assert.equal(found, null, `${what}: ${name} has U+${found?.[0].charCodeAt(0).toString(16)} raw at ${found?.index}`);
  }
  assert.doesNotMatch(result.stderr, /\n\s+at /, what);
}

/** The hostile name as the terminal shows it: each sequence a visible escape, on one line. */
const SHOWN = terminalText(EVIL);

test("escaping: terminal text shows every unsafe character as a visible escape, XML text keeps only allowed characters", () => {
  assert.equal(SHOWN, "\\x1b[2J\\x1b]0;owned\\x07\\x1b]8;;http://evil.example/\\x07click\\x1b]8;;\\x07\\x07\\x9b31m\\x7f" +
    "\\u202eevil\\u202a\\u2066\\u2069\\u200e\\u200f\\u061c\\nnext line\\rback<&>\"'");
  assert.equal(terminalText("a\tb\u2028c\ud800d\ud83d\ude00"), "a\\tb\\u2028c\\ud800d\ud83d\ude00", "a lone surrogate escaped, a pair kept");
  assert.equal(terminalText("C:\\path ünïcode"), "C:\\path ünïcode", "backslashes and printable text unchanged");
  assert.equal(xmlText(`a<b>&"'\x1b\x00\t\n\ufffe\udc00`), "a&lt;b&gt;&amp;&quot;&apos;\ufffd\ufffd\t\n\ufffd\ufffd");
  const json = terminalJson({ name: EVIL, list: [1] }, 1);
  assert.equal(TERMINAL_UNSAFE.exec(json), null, "JSON carries no unsafe character raw");
  assert.deepEqual(JSON.parse(json), { name: EVIL, list: [1] }, "and is the same value");
});

test("hostile names: summary, paths, diagnose, check and report print them escaped, on their own lines", { skip: noAgent, timeout: 600_000 }, () => {
  const { dir, files, qualname, type, instance, local } = hostileCapture();
  const latest = files[files.length - 1];

  const summary = leakbook("summary", dir);
  assert.equal(summary.status, 0, summary.stderr);
  assertSafe(summary, "summary");
  assert.ok(summary.stdout.startsWith(`${terminalText(latest)}  (lbsnap, captured`), "the file name, escaped, on the first line");
  assert.ok(summary.stdout.split("\n").some((line) => line.startsWith(`  mod${SHOWN.slice(0, 40)}`)), "the type, escaped, in its table row");

  const json = leakbook("summary", latest, "--json");
  assert.equal(json.status, 0, json.stderr);
  assertSafe(json, "summary --json");
  const parsed = JSON.parse(json.stdout);
  assert.equal(parsed.file, latest, "JSON carries the exact file name");
  assert.ok(parsed.types.some((t: { type: string }) => t.type === type), "and the exact type name");

  const paths = leakbook("paths", dir, "--type", qualname, "--top", "2");
  assert.equal(paths.status, 0, paths.stderr);
  assertSafe(paths, "paths --type");
  assert.match(paths.stdout.split("\n")[0], /: 1,601 instances, 400 new since /);
  const byAddress = leakbook("paths", latest, String(local));
  assert.equal(byAddress.status, 0, byAddress.stderr);
  assertSafe(byAddress, "paths ADDRESS");
  const pathsJson = leakbook("paths", latest, String(instance), "--json");
  assertSafe(pathsJson, "paths --json");
  assert.equal(JSON.parse(pathsJson.stdout).type, type);

  for (const args of [["diagnose", dir], ["diagnose", dir, "--json"], ["check", dir]]) {
    const result = leakbook(...args);
    assert.ok(result.status === 0 || result.status === 1, `${args.join(" ")}: ${result.stderr}`);
    assertSafe(result, args.join(" "));
  }
  const diagnosis = leakbook("diagnose", dir);
  assert.ok(diagnosis.stdout.includes(`\n      type: mod${SHOWN}.Evil${SHOWN}\n`), "the finding's type escaped in full, on its line");

  const out = join(tempDir(), "report\x1b]0;x\x07\u202e\n.html");
  const report = leakbook("report", dir, "-o", out);
  assert.equal(report.status, 0, report.stderr);
  assertSafe(report, "report");
  assert.match(report.stdout, /; wrote .*report\\x1b\]0;x\\x07\\u202e\\n\.html\n$/);
});

test("hostile names: error messages name files and types escaped, in one line", { skip: noAgent, timeout: 300_000 }, () => {
  const { dir, files, qualname } = hostileCapture();
  // File names cannot hold "/": the rest of the hostile name can.
  const bad = join(tempDir(), `bad${EVIL.replace(/\//g, "")}.lbsnap`);
  const bytes = readFileSync(files[0]);
  bytes[bytes.length - 30] ^= 1;
  writeFileSync(bad, bytes);
  const missing = join(tempDir(), `missing${EVIL.replace(/\//g, "")}.lbsnap`);
  for (const [args, expected] of [
    [["summary", bad], `${terminalText(bad)}: corrupted (checksum mismatch)`],
    [["diagnose", bad], `${terminalText(bad)}: corrupted (checksum mismatch)`],
    [["summary", missing], `${terminalText(missing)}: no such file`],
    [["paths", dir, "--type", `nope${qualname}`], `no type 'nope${terminalText(qualname)}' in ${terminalText(files[3])}`],
  ] as const) {
    const result = leakbook(...args);
    assert.equal(result.status, 2, `${args[0]}: ${result.stderr}`);
    assertSafe(result, args.join(" "));
    assert.equal(result.stderr.split("\n").length, 2, `one line: ${result.stderr}`);
    assert.ok(result.stderr.startsWith(`leakbook: ${expected}`), `${result.stderr} starts with leakbook: ${expected}`);
  }
});

test("hostile names: renderText of a table and the SVG of charts carry none of them raw", { skip: noAgent, timeout: 300_000 }, async () => {
  const { files } = hostileCapture();
  const series = await loadSeries(files);
  const growth = typeGrowth(series);
  assert.ok(growth.array("type").includes(series.snapshots[0].types.find((t) => t.startsWith("mod\x1b"))), "the hostile type is a row");
  const text = renderText(growth, { maxRows: 1000 });
  assert.equal(TERMINAL_UNSAFE.exec(text), null, "renderText");
  assert.ok(text.includes(SHOWN.slice(0, 30)));
  const hostileTypes = series.snapshots[0].types.filter((t) => t.startsWith("mod"));
  const history = typeHistory(series, { types: hostileTypes });
  for (const [name, spec] of [["typeGrowth", typeGrowthChart(growth)], ["typeHistory", typeHistoryChart(history)]] as const) {
    const svg = await renderSvg(spec);
    assert.ok(checkWellFormedXml(svg) > 10, `${name}: a well-formed SVG`);
    assert.match(svg, /&lt;&amp;&gt;/, `${name}: the markup characters of a hostile name are escaped in it`);
  }
});
