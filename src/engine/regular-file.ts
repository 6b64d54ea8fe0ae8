// Opening a snapshot file for reading, only when it is a regular file: a FIFO would block the reader forever and
// a device would feed it without end.
import { constants, type Stats } from "node:fs";
import { open, type FileHandle } from "node:fs/promises";
import { SnapshotError } from "../common/errors.js";

export interface RegularFile {
  handle: FileHandle;
  size: number;
  mtimeMs: number;
}

/** What a file system entry is, for "PATH: is a FIFO (named pipe), not a snapshot file". */
export function entryKind(info: Stats): string {
  if (info.isDirectory()) return "a directory";
  if (info.isFIFO()) return "a FIFO (named pipe)";
  if (info.isCharacterDevice()) return "a character device";
  if (info.isBlockDevice()) return "a block device";
  if (info.isSocket()) return "a socket";
  return "not a regular file";
}

/** Why a file could not be opened or listed, in words: "no such file", "a symbolic link loop". */
export function openProblem(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === "ENOENT") return "no such file";
  if (code === "ELOOP") return "a symbolic link loop";
  if (code === "EACCES" || code === "EPERM") return "permission denied";
  return code ?? String((error as Error).message ?? error);
}

/**
 * Opens `path` read-only if it is a regular file. The open does not block (O_NONBLOCK: opening a FIFO waits for a
 * writer otherwise), and the type is read from the open file itself, so a rename in between cannot swap it.
 */
export async function openRegularFile(path: string): Promise<RegularFile> {
  let handle: FileHandle;
  try {
    handle = await open(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (error) {
    throw new SnapshotError(`${path}: ${openProblem(error)}`);
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw new SnapshotError(`${path}: is ${entryKind(info)}, not a snapshot file`);
    return { handle, size: info.size, mtimeMs: info.mtimeMs };
  } catch (error) {
    await handle.close();
    throw error;
  }
}
