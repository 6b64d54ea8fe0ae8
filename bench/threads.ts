// Benchmark of the analysis helper thread (`npm run bench:threads -- FILE [--runs 5]`): load + analyze() of one
// snapshot with the helper and without, alternating, each in a fresh child process, with the machine's other
// cores as they are and with one more process spinning beside it. Prints the medians and their ratio.
import { spawn, spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { loadavg } from "node:os";
import { loadSnapshot } from "../src/engine/load.js";
import { analyze } from "../src/engine/graph.js";

async function child(file: string, threads: boolean): Promise<void> {
  const started = performance.now();
  analyze(await loadSnapshot(file), { threads });
  process.stdout.write(`${performance.now() - started}\n`);
}

function measure(file: string, threads: boolean): number {
  const out = spawnSync(process.execPath, [fileURLToPath(import.meta.url), "--child", file, String(threads)], { encoding: "utf8" });
  if (out.status !== 0) throw new Error(out.stderr);
  return Number(out.stdout.trim());
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args[0] === "--child") return child(args[1], args[2] === "true");
  const file = args[0];
  const runs = Number(args[args.indexOf("--runs") + 1] || 5);
  if (!file) throw new Error("usage: threads.js FILE [--runs N]");
  for (const busy of [false, true]) {
    // A spinning process takes one core for the whole measurement.
    const spinner = busy ? spawn(process.execPath, ["-e", "for (;;) {}"], { stdio: "ignore" }) : null;
    const times = { on: [] as number[], off: [] as number[] };
    const loads: number[] = [];
    try {
      for (let run = 0; run < runs; run++) {
        loads.push(loadavg()[0]);
        for (const threads of run % 2 === 0 ? [true, false] : [false, true]) times[threads ? "on" : "off"].push(measure(file, threads));
      }
    } finally {
      spinner?.kill();
    }
    const on = median(times.on);
    const off = median(times.off);
    process.stdout.write(`${busy ? "one core spinning" : "as it is"} (load average ${median(loads).toFixed(1)}): ` +
      `helper ${on.toFixed(0)} ms, alone ${off.toFixed(0)} ms, helper / alone ${(on / off).toFixed(2)}\n`);
  }
}

await main();
