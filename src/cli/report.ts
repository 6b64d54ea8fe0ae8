// `leakbook report`: the diagnosis as one self-contained HTML file, written without ever replacing a file the
// user has unless asked to.
import { link, rename, stat, unlink, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { SnapshotError } from "../common/errors.js";
import { renderReport } from "../present/report.js";
import { loadInputs, PID_HELP, PID_OPTION, type CommandSpec, type OptionValues } from "./common.js";

/**
 * Writes `text` to `path` through a temporary file in the same directory. Without `force` the final step is a hard
 * link, which fails when `path` exists (even if it appeared meanwhile), so an existing file is never replaced.
 */
export async function writeNewFile(path: string, text: string, force: boolean): Promise<void> {
  if (!force && (await exists(path))) throw new SnapshotError(`${path} exists; pass --force to overwrite it`);
  const temporary = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  try {
    await writeFile(temporary, text, { flag: "wx" });
  } catch (error) {
    throw new SnapshotError(`cannot write ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  try {
    if (force) await rename(temporary, path);
    else await link(temporary, path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new SnapshotError(code === "EEXIST" ? `${path} exists; pass --force to overwrite it` : `cannot write ${path}: ${code ?? (error as Error).message}`);
  } finally {
    await unlink(temporary).catch(() => undefined);
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

export const reportCommand: CommandSpec = {
  usage: "leakbook report DIR|FILE... -o REPORT.html [--force] [--pid PID]",
  description: "write the diagnosis as one self-contained HTML file (checklist, charts, findings, paths)",
  options: { output: { type: "string", short: "o" }, force: { type: "boolean" }, ...PID_OPTION },
  help: `Runs the diagnosis and writes it as one HTML file that opens from disk in any browser: the verdict, the
findings with their retention paths and fixes, and every checklist step with its charts (inline SVG) and
tables. Nothing is fetched from the network and the page runs no script.
  -o, --output FILE   where to write the report (required)
  --force             replace FILE if it exists (otherwise an existing file is never touched)
${PID_HELP}`,
  async run(positionals: string[], values: OptionValues) {
    const output = values.output;
    if (typeof output !== "string" || output === "") throw new SnapshotError(`missing -o REPORT.html (usage: ${reportCommand.usage})`);
    if (!values.force && (await exists(output))) throw new SnapshotError(`${output} exists; pass --force to overwrite it`);
    const { series, diagnosis } = await loadInputs(positionals, reportCommand.usage, values);
    const html = await renderReport(diagnosis, { source: positionals.join(" "), snapshots: series.snapshots });
    await writeNewFile(output, html, values.force === true);
    process.stdout.write(`leakbook report: ${diagnosis.verdict}; wrote ${output}\n`);
  },
};
