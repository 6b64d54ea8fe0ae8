// `leakbook report`: the diagnosis as one self-contained HTML file, written without ever replacing a file the
// user has unless asked to.
import { link, rename, stat, unlink, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { SnapshotError } from "../common/errors.js";
import { renderReport } from "../present/report.js";
import { COMMANDS, type OptionValues } from "./commands.js";
import { loadInputs } from "./common.js";
import { terminalProgress } from "./progress.js";

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
    throw new SnapshotError(await cannotWrite(path, error as NodeJS.ErrnoException));
  }
  try {
    if (force) await rename(temporary, path);
    else await link(temporary, path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new SnapshotError(code === "EEXIST" ? `${path} exists; pass --force to overwrite it` : await cannotWrite(path, error as NodeJS.ErrnoException));
  } finally {
    await unlink(temporary).catch(() => undefined);
  }
}

/** The usual reasons a write fails, in words. */
const WRITE_ERRORS: Record<string, string> = {
  EACCES: "permission denied", EPERM: "operation not permitted", EROFS: "read-only file system", ENOSPC: "no space left on the device",
};

/** Why `path` cannot be written, naming the directory when that is what is missing. */
async function cannotWrite(path: string, error: NodeJS.ErrnoException): Promise<string> {
  const why = (await directoryProblem(path)) ?? WRITE_ERRORS[error.code ?? ""] ?? error.code ?? error.message;
  return `report: cannot write ${path}: ${why}`;
}

/** What keeps a file from being created at `path` for want of its directory: null when the directory is there. */
async function directoryProblem(path: string): Promise<string | null> {
  const directory = dirname(path);
  try {
    return (await stat(directory)).isDirectory() ? null : `${directory} is not a directory`;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === "ENOENT" ? `directory ${directory} does not exist` : code === "ENOTDIR" ? `${directory} is not a directory` : null;
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

export async function reportCommand(positionals: string[], values: OptionValues): Promise<void> {
  const output = values.output;
  if (typeof output !== "string" || output === "") throw new SnapshotError(`missing -o REPORT.html (usage: ${COMMANDS.report.usage})`);
  if (!values.force && (await exists(output))) throw new SnapshotError(`${output} exists; pass --force to overwrite it`);
  // Before the diagnosis, which can take a while: a report that cannot be written is said at once.
  const problem = await directoryProblem(output);
  if (problem) throw new SnapshotError(`report: cannot write ${output}: ${problem}`);
  const { series, diagnosis } = await loadInputs(positionals, COMMANDS.report.usage, values);
  const progress = terminalProgress();
  progress.update("writing the report");
  try {
    const html = await renderReport(diagnosis, { source: positionals.join(" "), snapshots: series.snapshots });
    await writeNewFile(output, html, values.force === true);
  } finally {
    progress.clear();
  }
  process.stdout.write(`leakbook report: ${diagnosis.verdict}; wrote ${output}\n`);
}
