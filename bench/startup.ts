// Start-up time of the CLI (`npm run bench:startup`, or `node dist/bench/startup.js [--runs N] [--against OTHER/main.js]`).
// Runs `node dist/src/cli/main.js --help` and a bare `node -e 0` in alternation, N times each (default 40), so that
// both see the same machine load, and prints the medians, leakbook's own share (the difference) and the ratio.
// With --against, another build of the CLI (another checkout's dist/src/cli/main.js) joins the alternation.
import { spawnSync } from "node:child_process";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const CLI = resolve(dirname(fileURLToPath(import.meta.url)), "../src/cli/main.js");

function option(name: string): string | undefined {
  const at = process.argv.indexOf(name);
  return at >= 0 ? process.argv[at + 1] : undefined;
}

const runs = Number(option("--runs") ?? 40);
const against = option("--against");
const cases: Record<string, string[]> = { "node -e 0": ["-e", "0"], "leakbook --help": [CLI, "--help"] };
if (against) cases[`${against} --help`] = [resolve(against), "--help"];

const times: Record<string, number[]> = Object.fromEntries(Object.keys(cases).map((name) => [name, []]));
for (let run = 0; run < runs; run++) {
  for (const [name, args] of Object.entries(cases)) {
    const started = performance.now();
    const result = spawnSync(process.execPath, args, { stdio: ["ignore", "ignore", "pipe"] });
    if (result.status !== 0) throw new Error(`${name} failed: ${result.stderr}`);
    times[name].push(performance.now() - started);
  }
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
};
const bare = median(times["node -e 0"]);
console.log(`${runs} runs each, alternating; Node ${process.version}`);
console.log("| command | median ms | minimum ms | above bare Node ms | / bare Node |");
console.log("|---|---|---|---|---|");
for (const [name, values] of Object.entries(times)) {
  const m = median(values);
  console.log(`| ${name} | ${m.toFixed(1)} | ${Math.min(...values).toFixed(1)} | ${(m - bare).toFixed(1)} | ${(m / bare).toFixed(2)} |`);
}
