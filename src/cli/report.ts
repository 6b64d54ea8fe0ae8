// `leakbook report`: the diagnosis as one self-contained HTML file, written without ever replacing a file the
// user has unless asked to.
import { link, lstat, open, rename, stat, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { SnapshotError } from "../common/errors.js";
import { renderReport } from "../present/report.js";
import { entryKind } from "../engine/regular-file.js";
import { COMMANDS, type OptionValues } from "./commands.js";
import { loadInputs } from "./common.js";
import { textLines } from "./output.js";
import { terminalProgress } from "./progress.js";

/**
 * Writes `text` to `path` through a temporary file in the same directory, which is removed whatever fails. Only a
 * regular file is ever written or replaced: a FIFO, a device, a directory or a symbolic link in the way is refused.
 * Without `force` the final step is a hard link, which fails when `path` exists (even if it appeared meanwhile), so
 * an existing file is never replaced; with `force` a regular file is replaced by a rename.
 */
export async function writeNewFile(path: string, text: string, force: boolean): Promise<void> {
  await checkTarget(path, force);
  const temporary = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  let created = false;
  try {
    const file = await open(temporary, "wx"); // O_EXCL: never through a link, never an existing file
    created = true;
    try {
      await file.writeFile(text);
    } finally {
      await file.close();
    }
    if (force) {
      await checkTarget(path, force); // as late as possible: the target may have changed meanwhile
      await rename(temporary, path);
      created = false;
    } else {
      await link(temporary, path);
    }
  } catch (error) {
    if (error instanceof SnapshotError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    throw new SnapshotError(code === "EEXIST" && created ? `${path} exists; pass --force to overwrite it` : await cannotWrite(path, error));
  } finally {
    if (created) await unlink(temporary).catch(() => undefined);
  }
}

/** Why `path` cannot be written, naming the directory when that is what is missing. */
async function cannotWrite(path: string, error: unknown): Promise<string> {
  return `cannot write ${path}: ${(await directoryProblem(path)) ?? writeProblem(error)}`;
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

/** Refuses a target that is not a regular file, and an existing one without `force`. */
async function checkTarget(path: string, force: boolean): Promise<void> {
  let info;
  try {
    info = await lstat(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
    throw new SnapshotError(`cannot write ${path}: ${writeProblem(error)}`);
  }
  if (info.isSymbolicLink()) throw new SnapshotError(`${path} is a symbolic link; the report is written to a regular file only`);
  if (!info.isFile()) throw new SnapshotError(`${path} is ${entryKind(info)}; the report is written to a regular file only`);
  if (!force) throw new SnapshotError(`${path} exists; pass --force to overwrite it`);
}

const WRITE_PROBLEMS: Record<string, string> = {
  ENOENT: "its directory does not exist", ENOTDIR: "its directory does not exist", EACCES: "permission denied",
  EPERM: "permission denied", ENOSPC: "no space left on the device", EDQUOT: "disk quota exceeded",
  EFBIG: "file too large (a file size limit, ulimit -f?)", EROFS: "read-only file system", EISDIR: "it is a directory",
};

/** Why a write failed, in words. */
function writeProblem(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  return (code && WRITE_PROBLEMS[code]) ?? code ?? String((error as Error).message ?? error);
}

export async function reportCommand(positionals: string[], values: OptionValues): Promise<void> {
  const output = values.output;
  if (typeof output !== "string" || output === "") throw new SnapshotError(`missing -o REPORT.html (usage: ${COMMANDS.report.usage})`);
  // Before the diagnosis, which can take a while: a report that cannot be written is said at once.
  const problem = await directoryProblem(output);
  if (problem) throw new SnapshotError(`report: cannot write ${output}: ${problem}`);
  await checkTarget(output, values.force === true);
  const { series, diagnosis } = await loadInputs(positionals, COMMANDS.report.usage, values);
  const progress = terminalProgress();
  progress.update("writing the report");
  try {
    const html = await renderReport(diagnosis, { source: positionals.join(" "), snapshots: series.snapshots });
    await writeNewFile(output, html, values.force === true);
  } finally {
    progress.clear();
  }
  process.stdout.write(textLines([`leakbook report: ${diagnosis.verdict}; wrote ${output}`]));
}
