// Where a notebook finds the snapshots it was pointed at. Jupyter runs the kernel in the notebook's folder, so a
// relative LEAKBOOK_SNAPSHOTS, typed where Jupyter was started, would otherwise be looked for in notebooks/.
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository (or installed package) root: this module is dist/src/present/notebook-input.js. */
const PACKAGE_ROOT = fileURLToPath(new URL("../../..", import.meta.url));

/**
 * The absolute path of a snapshot directory or file named in a notebook. A relative path is looked up from the
 * directory Jupyter was started in (`$PWD`, which the kernel inherits), then the kernel's own directory (the
 * notebook's folder), then the repository's root. When none holds it, the error is one line that names every
 * path tried (a notebook shows it without a stack trace).
 */
export function snapshotsPath(wanted: string): string {
  const bases = [process.env.PWD, process.cwd(), PACKAGE_ROOT].filter((dir): dir is string => !!dir);
  const tried = [...new Set(bases.map((dir) => resolve(dir, wanted)))];
  const found = tried.find((path) => existsSync(path));
  if (found !== undefined) return found;
  const error = new Error(`leakbook: no snapshots at ${wanted}: tried ${tried.join(", ")}`);
  // tslab prints a thrown error's stack; this one's is its message.
  error.stack = error.message;
  throw error;
}
