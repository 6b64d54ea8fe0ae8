// Entry point for reading a snapshot from a path or bytes: reads the file with progress, detects the format
// from its content and hands it to the lbsnap reader or the meliae importer.
import { constants } from "node:buffer";
import { open, stat } from "node:fs/promises";
import { crc32 } from "node:zlib";
import { SnapshotError, describeSource } from "../common/errors.js";
import { looksLikeLbsnap, parseLbsnap, TRAILER_LENGTH } from "./format.js";
import { importMeliae, looksLikeMeliae } from "./meliae.js";
import type { Snapshot } from "./snapshot.js";
import { formatBytes } from "../common/units.js";

export interface LoadOptions {
  /** Called as bytes are read (and, for meliae dumps, as lines are imported): done and total in bytes. */
  onProgress?: (done: number, total: number) => void;
}

const CHUNK = 16 * 1024 * 1024;
/** The longest byte array this Node.js makes (4 GiB on Node 20): an lbsnap file is held in one. */
const MAX_LENGTH = constants.MAX_LENGTH;
/** Enough of a file to recognise its format. */
const SNIFF = 64 * 1024;

export type SnapshotFormat = "lbsnap" | "meliae";

/** Recognises the format from the first bytes of a file, or returns null. */
export function detectFormat(head: Uint8Array): SnapshotFormat | null {
  if (looksLikeLbsnap(head)) return "lbsnap";
  if (looksLikeMeliae(head)) return "meliae";
  return null;
}

export async function loadSnapshot(pathOrBytes: string | Uint8Array, opts: LoadOptions = {}): Promise<Snapshot> {
  if (typeof pathOrBytes !== "string") return fromBytes(pathOrBytes, null, opts);
  const path = pathOrBytes;
  const info = await stat(path).catch((error: NodeJS.ErrnoException) => {
    throw new SnapshotError(`${path}: ${error.code === "ENOENT" ? "no such file" : error.message}`);
  });
  if (info.isDirectory()) throw new SnapshotError(`${path}: is a directory, not a snapshot file`);
  if (info.size === 0) throw new SnapshotError(`${path}: empty file`);

  const file = await open(path, "r").catch((error: Error) => {
    throw new SnapshotError(`${path}: ${error.message}`);
  });
  try {
    const head = new Uint8Array(Math.min(SNIFF, info.size));
    await file.read(head, 0, head.length, 0);
    const format = detectFormat(head);
    if (format === "meliae") {
      return await importMeliae(fileChunks(file, info.size, opts), path, info.mtimeMs / 1000);
    }
    if (format === null) throw new SnapshotError(`${path}: not a snapshot (neither a leakbook .lbsnap file nor a meliae dump)`);
    // One preallocated buffer for the whole file: the sections become views on it, never copies. The buffer is
    // shared memory so that analyze()'s helper thread reads the edge sections in place instead of a copy.
    // Reads run off the main thread, two at a time (most of a read's time goes into the kernel giving the
    // buffer fresh pages, and two threads do that faster than one); each chunk's checksum is computed, in
    // order, while later chunks are being read.
    if (info.size > MAX_LENGTH) {
      throw new SnapshotError(`${path}: too large to load (${formatBytes(info.size)}; at most ${formatBytes(MAX_LENGTH)})`);
    }
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(new SharedArrayBuffer(info.size));
    } catch {
      throw new SnapshotError(`${path}: not enough memory to load it (${formatBytes(info.size)})`);
    }
    const reads: Promise<{ start: number; end: number }>[] = [];
    let requested = 0;
    const request = () => {
      if (requested >= info.size) return;
      const start = requested;
      const length = Math.min(CHUNK, info.size - start);
      requested += length;
      reads.push(file.read(bytes, start, length, start).then((r) => ({ start, end: start + r.bytesRead })));
    };
    request();
    request();
    const body = info.size - TRAILER_LENGTH;
    let crc = 0;
    let done = 0;
    try {
      while (reads.length > 0) {
        const { start, end } = await reads.shift()!;
        done = end;
        // A short read means the file shrank while being read: the rest is not used.
        if (end - start < Math.min(CHUNK, info.size - start)) break;
        request();
        if (start < body) crc = crc32(bytes.subarray(start, Math.min(end, body)), crc);
        opts.onProgress?.(done, info.size);
      }
    } finally {
      await Promise.allSettled(reads); // no read may still be writing when the file is closed
    }
    const complete = done === info.size;
    return parseLbsnap(complete ? bytes : bytes.subarray(0, done), path, complete && body > 0 ? crc : undefined);
  } finally {
    await file.close();
  }
}

async function* fileChunks(file: import("node:fs/promises").FileHandle, total: number, opts: LoadOptions): AsyncGenerator<Uint8Array> {
  let position = 0;
  while (position < total) {
    const chunk = new Uint8Array(Math.min(CHUNK, total - position));
    const { bytesRead } = await file.read(chunk, 0, chunk.length, position);
    if (bytesRead === 0) return;
    position += bytesRead;
    yield chunk.subarray(0, bytesRead);
    opts.onProgress?.(position, total);
  }
}

async function fromBytes(bytes: Uint8Array, source: string | null, opts: LoadOptions): Promise<Snapshot> {
  const name = describeSource(source);
  if (bytes.length === 0) throw new SnapshotError(`${name}: empty file`);
  const format = detectFormat(bytes.subarray(0, SNIFF));
  opts.onProgress?.(bytes.length, bytes.length);
  if (format === "lbsnap") return parseLbsnap(bytes, source);
  if (format === "meliae") {
    return importMeliae((async function* () { yield bytes; })(), source, Date.now() / 1000);
  }
  throw new SnapshotError(`${name}: not a snapshot (neither a leakbook .lbsnap file nor a meliae dump)`);
}
