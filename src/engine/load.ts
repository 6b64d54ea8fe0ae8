// Entry point for reading a snapshot from a path or bytes: reads the file with progress, detects the format
// from its content and hands it to the lbsnap reader or the meliae importer.
import { constants } from "node:buffer";
import type { FileHandle } from "node:fs/promises";
import { crc32 } from "node:zlib";
import { SnapshotError, describeSource } from "../common/errors.js";
import {
  checkPreamble, checkTrailer, failure, looksLikeLbsnap, parseLbsnap, PREAMBLE_LENGTH, readHeader, snapshotOf, TRAILER_LENGTH,
} from "./format.js";
import type { LbsnapHeader } from "./header.js";
import { importMeliae, looksLikeMeliae } from "./meliae.js";
import { analysisNeed, ensureMemory, headerNeed, lbsnapLoadNeed, meliaeImportNeed, together } from "./memory-budget.js";
import { openRegularFile } from "./regular-file.js";
import type { Snapshot } from "./snapshot.js";
import { formatBytes } from "../common/units.js";

export interface LoadOptions {
  /** Called as bytes are read (and, for meliae dumps, as lines are imported): done and total in bytes. */
  onProgress?: (done: number, total: number) => void;
  /**
   * The snapshot is to be analysed next: check, before reading it, that memory is left for the analysis too (so
   * that a snapshot too large for the process fails at once, saying how much it needs).
   */
  forAnalysis?: boolean;
}

const CHUNK = 16 * 1024 * 1024;
/** A meliae dump is read in smaller chunks: each becomes a string and its lines, on the JavaScript heap. */
const TEXT_CHUNK = 1024 * 1024;
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
  const { handle: file, size, mtimeMs } = await openRegularFile(path);
  try {
    if (size === 0) throw new SnapshotError(`${path}: empty file`);
    const head = await readAt(file, 0, Math.min(SNIFF, size));
    const format = detectFormat(head);
    if (format === "meliae") {
      ensureMemory(meliaeImportNeed(size), path, "import");
      return await importMeliae(fileChunks(file, size, opts), path, mtimeMs / 1000);
    }
    if (format === null) throw new SnapshotError(`${path}: not a snapshot (neither a leakbook .lbsnap file nor a meliae dump)`);
    return await readLbsnap(file, path, size, head, opts);
  } finally {
    await file.close();
  }
}

/** `length` bytes at `position` (fewer if the file is shorter). */
async function readAt(file: FileHandle, position: number, length: number): Promise<Uint8Array> {
  const bytes = new Uint8Array(length);
  const { bytesRead } = await file.read(bytes, 0, length, position);
  return bytes.subarray(0, bytesRead);
}

/**
 * Reads an lbsnap file: first its preamble, trailer and header, checked against the file's real size (a file that
 * claims more than it holds, or a sparse file of zeros, is rejected before anything large is allocated), then the
 * whole file into one buffer, checksummed as it comes in.
 */
async function readLbsnap(file: FileHandle, path: string, size: number, head: Uint8Array, opts: LoadOptions): Promise<Snapshot> {
  const fail = failure(path);
  if (size > MAX_LENGTH) fail(`too large to load (${formatBytes(size)}; at most ${formatBytes(MAX_LENGTH)})`);
  const headerLength = checkPreamble(head, size, fail);
  const recordedCrc = checkTrailer(await readAt(file, size - TRAILER_LENGTH, TRAILER_LENGTH), size, fail);
  ensureMemory(headerNeed(headerLength), path, "load");
  const headerEnd = PREAMBLE_LENGTH + headerLength;
  const headerBytes = headerEnd <= head.length ? head.subarray(PREAMBLE_LENGTH, headerEnd) : await readAt(file, PREAMBLE_LENGTH, headerLength);
  let header: LbsnapHeader;
  try {
    header = readHeader(headerBytes, size, fail);
  } catch (error) {
    // A damaged byte in the header is what the checksum is for: say so rather than what the damage looks like.
    if (error instanceof SnapshotError && (await bodyChecksum(file, size)) !== recordedCrc) fail("corrupted (checksum mismatch)");
    throw error;
  }
  const load = lbsnapLoadNeed(size, header.objects, headerLength);
  if (opts.forAnalysis) ensureMemory(together(load, analysisNeed(header.objects, header.edges)), path, "load and analyse");
  else ensureMemory(load, path, "load");

  // One preallocated buffer for the whole file: the sections become views on it, never copies. The buffer is
  // shared memory so that analyze()'s helper thread reads the edge sections in place instead of a copy.
  // Reads run off the main thread, two at a time (most of a read's time goes into the kernel giving the
  // buffer fresh pages, and two threads do that faster than one); each chunk's checksum is computed, in
  // order, while later chunks are being read.
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(new SharedArrayBuffer(size));
  } catch {
    return fail(`not enough memory to load it (${formatBytes(size)})`);
  }
  const reads: Promise<{ start: number; end: number }>[] = [];
  let requested = 0;
  const request = () => {
    if (requested >= size) return;
    const start = requested;
    const length = Math.min(CHUNK, size - start);
    requested += length;
    reads.push(file.read(bytes, start, length, start).then((r) => ({ start, end: start + r.bytesRead })));
  };
  request();
  request();
  const body = size - TRAILER_LENGTH;
  let crc = 0;
  let done = 0;
  try {
    while (reads.length > 0) {
      const { start, end } = await reads.shift()!;
      done = end;
      // A short read means the file shrank while being read.
      if (end - start < Math.min(CHUNK, size - start)) break;
      request();
      if (start < body) crc = crc32(bytes.subarray(start, Math.min(end, body)), crc);
      opts.onProgress?.(done, size);
    }
  } finally {
    await Promise.allSettled(reads); // no read may still be writing when the file is closed
  }
  if (done !== size) fail(`truncated (${done} of ${size} bytes: the file shrank while being read)`);
  // The preamble, trailer and header were checked as first read; what is in the buffer must be what was checked.
  const unchanged = checkTrailer(bytes.subarray(body), size, fail) === recordedCrc && sameBytes(bytes.subarray(PREAMBLE_LENGTH, headerEnd), headerBytes);
  if (!unchanged || crc !== recordedCrc) fail("corrupted (checksum mismatch)");
  return snapshotOf(bytes, header, path, fail);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0;
}

/** CRC-32 of everything before the trailer, read in chunks (nothing the size of the file is allocated). */
async function bodyChecksum(file: FileHandle, size: number): Promise<number> {
  const chunk = new Uint8Array(Math.min(CHUNK, size));
  let crc = 0;
  for (let position = 0; position < size - TRAILER_LENGTH;) {
    const { bytesRead } = await file.read(chunk, 0, Math.min(chunk.length, size - TRAILER_LENGTH - position), position);
    if (bytesRead === 0) break;
    crc = crc32(chunk.subarray(0, bytesRead), crc);
    position += bytesRead;
  }
  return crc;
}

async function* fileChunks(file: FileHandle, total: number, opts: LoadOptions): AsyncGenerator<Uint8Array> {
  let position = 0;
  while (position < total) {
    const chunk = new Uint8Array(Math.min(TEXT_CHUNK, total - position));
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
