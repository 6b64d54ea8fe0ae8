// The diagnosis scenario suite as a score (`npm run scenarios`, or `npm run scenarios -- logger mock` for the
// scenarios whose name contains any of the arguments). Captures each program in test/scenarios with the real
// agent, diagnoses it and prints one row per scenario, then the score. Options: --parallel N (default 2),
// --json (the judgements as JSON instead of the table), --keep DIR (keep each scenario's snapshots in DIR/<name>).
import { describeExpectation, describeScore, listScenarios, runScenarios, score, type Judgement } from "../test/helpers/scenarios.js";

function table(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) => r.map((cell, c) => cell.padEnd(widths[c])).join("  ").trimEnd()).join("\n");
}

function clip(text: string, width: number): string {
  return text.length <= width ? text : text.slice(0, width - 1) + "…";
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  let parallel = 2;
  let json = false;
  let keep: string | undefined;
  const filter: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--parallel") parallel = Number(args[++i]) || 1;
    else if (args[i] === "--json") json = true;
    else if (args[i] === "--keep") keep = args[++i];
    else filter.push(args[i]);
  }
  const scenarios = listScenarios(filter);
  if (scenarios.length === 0) {
    console.error(`no scenario matches ${filter.join(" ")}`);
    process.exit(2);
  }
  const started = performance.now();
  const results = await runScenarios(scenarios, parallel, (j) => {
    if (!json) process.stderr.write(`${j.pass ? "PASS" : "FAIL"} ${j.name} (${((j.captureMs + j.diagnoseMs) / 1000).toFixed(1)} s)\n`);
  }, keep);
  if (json) {
    console.log(JSON.stringify({ score: score(results), results }, null, 2));
    return;
  }
  const rows: string[][] = [["scenario", "expected", "verdict", "first kind", "severity", "path", "result", "capture"]];
  for (const j of results) {
    rows.push([
      j.name, clip(describeExpectation(j.expect), 70), j.verdict ?? "(error)", j.first?.kind ?? "-",
      j.first?.severity ?? "-", clip(j.first?.path ?? "-", 80), j.pass ? "PASS" : "FAIL",
      `${(j.captureMs / 1000).toFixed(1)} s`,
    ]);
  }
  console.log(table(rows));
  const failed = results.filter((j: Judgement) => !j.pass);
  if (failed.length > 0) {
    console.log("\nWhy each failure failed:");
    for (const j of failed) console.log(`  ${j.name}: ${j.reason}`);
  }
  console.log(`\n${describeScore(score(results))}  (${((performance.now() - started) / 1000).toFixed(0)} s)`);
}

await main();
