// `leakbook report`: the diagnosis as one self-contained HTML file, written without ever replacing a file the
// user has unless asked to.
import { link, lstat, open, rename, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { SnapshotError } from "../common/errors.js";
import { renderReport } from "../present/report.js";
import { entryKind } from "../engine/regular-file.js";
import { loadInputs, PID_HELP, PID_OPTION, type CommandSpec, type OptionValues } from "./common.js";
import { textLines } from "./output.js";

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
    throw new SnapshotError(code === "EEXIST" && created ? `${path} exists; pass --force to overwrite it` : `cannot write ${path}: ${writeProblem(error)}`);
  } finally {
    if (created) await unlink(temporary).catch(() => undefined);
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

export const reportCommand: CommandSpec = {
  usage: "leakbook report DIR|FILE... -o REPORT.html [--force] [--pid PID]",
  description: "write the diagnosis as one self-contained HTML file (checklist, charts, findings, paths)",
  options: { output: { type: "string", short: "o" }, force: { type: "boolean" }, ...PID_OPTION },
  help: `Runs the diagnosis and writes it as one HTML file that opens from disk in any browser: the verdict, the
findings with their retention paths and fixes, and every checklist step with its charts (inline SVG) and
tables. Nothing is fetched from the network and the page runs no script.
  -o, --output FILE   where to write the report (required)
  --force             replace FILE if it exists and is a regular file (otherwise an existing file is never
                      touched; a FIFO, device, directory or symbolic link is never written)
${PID_HELP}`,
  async run(positionals: string[], values: OptionValues) {
    const output = values.output;
    if (typeof output !== "string" || output === "") throw new SnapshotError(`missing -o REPORT.html (usage: ${reportCommand.usage})`);
    await checkTarget(output, values.force === true); // before the diagnosis, which can take a while
    const { series, diagnosis } = await loadInputs(positionals, reportCommand.usage, values);
    const html = await renderReport(diagnosis, { source: positionals.join(" "), snapshots: series.snapshots });
    await writeNewFile(output, html, values.force === true);
    process.stdout.write(textLines([`leakbook report: ${diagnosis.verdict}; wrote ${output}`]));
  },
};
