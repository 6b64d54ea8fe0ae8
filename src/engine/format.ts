// Reader of the lbsnap binary format (docs/snapshot-format.md): verifies the envelope, then exposes each
// section as a typed-array view on the file's bytes (copying only a misaligned section).
import { crc32 } from "node:zlib";
import { SnapshotError, describeSource } from "../common/errors.js";
import { NONE, EDGE_INDEX, type Snapshot, type StringTable, type MemoryInfo, type SnapshotMeta } from "./snapshot.js";

export const MAGIC = "LEAKBOOK";
const TRAILER_MAGIC = "LBEND001";
export const TRAILER_LENGTH = 24;
const PREAMBLE_LENGTH = 16;
export const SUPPORTED_VERSION = 1;

type Dtype = "u8" | "u32" | "f64";
type Column = Uint8Array | Uint32Array | Float64Array;

interface SectionEntry {
  offset: number;
  length: number;
  dtype: Dtype;
  count: number;
}

interface Header {
  format?: string;
  version?: number;
  kind?: "full" | "census";
  meta?: Partial<SnapshotMeta>;
  memory?: Partial<MemoryInfo>;
  types?: string[];
  sections?: Record<string, SectionEntry>;
  threads?: Snapshot["threads"];
  lru_caches?: Snapshot["lruCaches"];
  bounds?: unknown;
  alloc_sites?: Snapshot["allocSites"];
  census?: Snapshot["census"];
}

const ELEMENT_SIZE: Record<Dtype, number> = { u8: 1, u32: 4, f64: 8 };

function ascii(bytes: Uint8Array, start: number, length: number): string {
  return String.fromCharCode(...bytes.subarray(start, start + length));
}

/** True when the bytes start with the lbsnap magic (or are a prefix of it, as in a file cut very short). */
export function looksLikeLbsnap(bytes: Uint8Array): boolean {
  const n = Math.min(bytes.length, MAGIC.length);
  return n > 0 && ascii(bytes, 0, n) === MAGIC.slice(0, n);
}

/** Strings decoded on demand from one UTF-8 buffer: nothing is decoded until asked for. */
export class LazyStringTable implements StringTable {
  private readonly decoder = new TextDecoder();
  readonly count: number;
  constructor(private readonly offsets: Uint32Array, private readonly data: Uint8Array) {
    this.count = Math.max(0, offsets.length - 1);
  }
  get(index: number): string {
    if (!(index >= 0 && index < this.count)) throw new RangeError(`string index ${index} out of range`);
    return this.decoder.decode(this.data.subarray(this.offsets[index], this.offsets[index + 1]));
  }
}

/**
 * Parses an lbsnap file held in memory. The returned columns are views on `bytes` where alignment allows.
 * `bodyCrc`, when given, is the CRC-32 of everything before the trailer, computed by a reader as the bytes came in.
 */
export function parseLbsnap(bytes: Uint8Array, source: string | null, bodyCrc?: number): Snapshot {
  const name = describeSource(source);
  const fail = (what: string): never => {
    throw new SnapshotError(`${name}: ${what}`);
  };
  if (bytes.length === 0) fail("empty file");
  if (!looksLikeLbsnap(bytes)) fail("not a snapshot (no LEAKBOOK magic)");
  if (bytes.length < PREAMBLE_LENGTH + TRAILER_LENGTH) fail(`truncated (only ${bytes.length} bytes)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(8, true);
  if (version !== SUPPORTED_VERSION) {
    fail(`wrong version: format version ${version}, this leakbook reads version ${SUPPORTED_VERSION}`);
  }

  const trailerAt = bytes.length - TRAILER_LENGTH;
  if (ascii(bytes, trailerAt, 8) !== TRAILER_MAGIC) fail("truncated (no end-of-file trailer)");
  const recordedLength = Number(view.getBigUint64(trailerAt + 16, true));
  if (recordedLength !== bytes.length) {
    fail(recordedLength > bytes.length
      ? `truncated (${bytes.length} of ${recordedLength} bytes)`
      : `corrupted (file is ${bytes.length} bytes, trailer says ${recordedLength})`);
  }
  const recordedCrc = view.getUint32(trailerAt + 8, true);
  if ((bodyCrc ?? crc32(bytes.subarray(0, trailerAt))) !== recordedCrc) fail("corrupted (checksum mismatch)");

  const headerLength = view.getUint32(12, true);
  if (PREAMBLE_LENGTH + headerLength > trailerAt) fail("unreadable header (header length beyond end of file)");
  let header: Header;
  try {
    header = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(
      bytes.subarray(PREAMBLE_LENGTH, PREAMBLE_LENGTH + headerLength)));
  } catch (error) {
    return fail(`unreadable header (${(error as Error).message})`);
  }
  if (header === null || typeof header !== "object" || Array.isArray(header)) fail("unreadable header (not a JSON object)");
  if (header.version !== undefined && header.version !== SUPPORTED_VERSION) {
    fail(`wrong version: header version ${header.version}, this leakbook reads version ${SUPPORTED_VERSION}`);
  }
  const sections = header.sections ?? {};
  const types = header.types ?? [];
  if (!Array.isArray(types)) fail("unreadable header (types is not a list)");

  function section<T extends Column>(key: string, dtype: Dtype, required: boolean): T | null {
    const entry = sections[key];
    if (!entry) {
      if (required) fail(`unreadable header (section ${key} missing)`);
      return null;
    }
    if (entry.dtype !== dtype) fail(`unreadable header (section ${key} has dtype ${entry.dtype}, expected ${dtype})`);
    const { offset, count } = entry;
    const byteLength = count * ELEMENT_SIZE[dtype];
    if (!Number.isInteger(offset) || !Number.isInteger(count) || offset < 0 || count < 0
        || entry.length !== byteLength || offset + byteLength > trailerAt) {
      fail(`unreadable header (section ${key} out of bounds)`);
    }
    const start = bytes.byteOffset + offset;
    if (dtype === "u8") return new Uint8Array(bytes.buffer, start, count) as T;
    const Ctor = dtype === "u32" ? Uint32Array : Float64Array;
    if (start % ELEMENT_SIZE[dtype] === 0) return new Ctor(bytes.buffer, start, count) as T;
    // Misaligned (bytes handed in at an odd offset): copy this one section.
    return new Ctor(bytes.slice(offset, offset + byteLength).buffer) as T;
  }

  const kind = header.kind === "census" ? "census" : "full";
  const full = kind === "full";
  const address = section<Float64Array>("obj_address", "f64", full) ?? new Float64Array(0);
  const objectCount = address.length;
  const perObject = <T extends Column>(key: string, dtype: Dtype, required: boolean): T | null => {
    const column = section<T>(key, dtype, required);
    if (column && column.length !== objectCount) fail(`unreadable header (section ${key} has ${column.length} entries, expected ${objectCount})`);
    return column;
  };
  const type = perObject<Uint32Array>("obj_type", "u32", full) ?? new Uint32Array(0);
  const size = perObject<Float64Array>("obj_size", "f64", full) ?? new Float64Array(0);
  const length = perObject<Uint32Array>("obj_length", "u32", false) ?? new Uint32Array(objectCount).fill(NONE);
  const flags = perObject<Uint8Array>("obj_flags", "u8", false) ?? new Uint8Array(objectCount);
  const nameColumn = perObject<Uint32Array>("obj_name", "u32", false) ?? new Uint32Array(objectCount).fill(NONE);
  const alloc = perObject<Uint32Array>("obj_alloc", "u32", false);

  const edgeStart = section<Uint32Array>("edge_start", "u32", full) ?? new Uint32Array(1);
  if (edgeStart.length !== objectCount + 1) fail("unreadable header (edge_start does not have one entry per object plus one)");
  const edgeTarget = section<Uint32Array>("edge_target", "u32", full) ?? new Uint32Array(0);
  const edgeCount = edgeTarget.length;
  const edgeKind = section<Uint8Array>("edge_kind", "u8", full) ?? new Uint8Array(0);
  const edgeLabel = section<Uint32Array>("edge_label", "u32", full) ?? new Uint32Array(0);
  if (edgeKind.length !== edgeCount || edgeLabel.length !== edgeCount) fail("unreadable header (edge sections differ in length)");

  const rootObject = section<Uint32Array>("root_object", "u32", false) ?? new Uint32Array(0);
  const rootKind = section<Uint8Array>("root_kind", "u8", false) ?? new Uint8Array(rootObject.length);
  const rootLabel = section<Uint32Array>("root_label", "u32", false) ?? new Uint32Array(rootObject.length).fill(NONE);
  if (rootKind.length !== rootObject.length || rootLabel.length !== rootObject.length) fail("unreadable header (root sections differ in length)");

  const strOffsets = section<Uint32Array>("str_offsets", "u32", false) ?? new Uint32Array(1);
  const strData = section<Uint8Array>("str_data", "u8", false) ?? new Uint8Array(0);
  const strings = new LazyStringTable(strOffsets, strData);

  const problem = checkReferences({
    objectCount, typeCount: types.length, stringCount: strings.count, strDataLength: strData.length,
    type, nameColumn, edgeStart, edgeTarget, edgeKind, edgeLabel, rootObject, rootLabel, strOffsets,
  });
  if (problem) fail(`corrupted (${problem})`);
  const bounds = readBounds(header.bounds, objectCount, fail);

  const meta = header.meta ?? {};
  const memory = header.memory ?? {};
  return {
    source,
    format: "lbsnap",
    kind,
    meta: { ...meta, time: meta.time ?? "", time_unix: meta.time_unix ?? 0, pid: meta.pid ?? 0, process_start: meta.process_start ?? 0 },
    memory: { ...memory, rss: memory.rss ?? null, rss_peak: memory.rss_peak ?? null, pymalloc: memory.pymalloc ?? null, tracemalloc: memory.tracemalloc ?? null },
    types,
    objectCount,
    edgeCount,
    address, type, size, length, flags, name: nameColumn, alloc,
    edgeStart, edgeTarget, edgeKind, edgeLabel,
    rootObject, rootKind, rootLabel,
    strings,
    threads: header.threads ?? [],
    lruCaches: header.lru_caches ?? [],
    bounds,
    allocSites: header.alloc_sites ?? null,
    census: header.census ?? null,
  };
}

/** The header's `bounds`: a list of [object index, bound] pairs; absent in files of earlier agents. */
function readBounds(raw: unknown, objectCount: number, fail: (what: string) => never): Map<number, number> {
  const bounds = new Map<number, number>();
  if (raw === undefined || raw === null) return bounds;
  if (!Array.isArray(raw)) return fail("unreadable header (bounds is not a list)");
  for (const entry of raw) {
    if (!Array.isArray(entry) || entry.length !== 2 || !Number.isInteger(entry[0]) || !Number.isInteger(entry[1]) || entry[1] < 0) {
      fail(`unreadable header (bounds entry ${JSON.stringify(entry)} is not [object index, bound])`);
    }
    const [object, bound] = entry as [number, number];
    if (object < 0 || object >= objectCount) fail(`corrupted (bounds entry for object ${object} of ${objectCount})`);
    bounds.set(object, Math.min(bound, bounds.get(object) ?? Infinity));
  }
  return bounds;
}

interface ReferenceColumns {
  objectCount: number; typeCount: number; stringCount: number; strDataLength: number;
  type: Uint32Array; nameColumn: Uint32Array; edgeStart: Uint32Array; edgeTarget: Uint32Array;
  edgeKind: Uint8Array; edgeLabel: Uint32Array; rootObject: Uint32Array; rootLabel: Uint32Array; strOffsets: Uint32Array;
}

/**
 * Checks every index that points into another column, so that a writer bug shows up here as one message
 * instead of an out-of-range read deep in the graph engine. Returns a description of the first problem, or null.
 */
function checkReferences(c: ReferenceColumns): string | null {
  const { objectCount, typeCount, stringCount } = c;
  for (let i = 0; i < objectCount; i++) {
    if (c.type[i] >= typeCount) return `object ${i} has type index ${c.type[i]} of ${typeCount}`;
    const name = c.nameColumn[i];
    if (name !== NONE && name >= stringCount) return `object ${i} has string index ${name} of ${stringCount}`;
  }
  const edgeCount = c.edgeTarget.length;
  if (c.edgeStart[0] !== 0 || c.edgeStart[objectCount] !== edgeCount) return "edge_start does not span the edges";
  for (let i = 0; i < objectCount; i++) {
    if (c.edgeStart[i] > c.edgeStart[i + 1]) return `edge_start decreases at object ${i}`;
  }
  for (let e = 0; e < edgeCount; e++) {
    if (c.edgeTarget[e] >= objectCount) return `edge ${e} points at object ${c.edgeTarget[e]} of ${objectCount}`;
    if (c.edgeKind[e] !== EDGE_INDEX && c.edgeLabel[e] >= stringCount) return `edge ${e} has string index ${c.edgeLabel[e]} of ${stringCount}`;
  }
  for (let r = 0; r < c.rootObject.length; r++) {
    if (c.rootObject[r] >= objectCount) return `root ${r} points at object ${c.rootObject[r]} of ${objectCount}`;
    if (c.rootLabel[r] !== NONE && c.rootLabel[r] >= stringCount) return `root ${r} has string index ${c.rootLabel[r]}`;
  }
  if (c.strOffsets.length > 0 && c.strOffsets[c.strOffsets.length - 1] > c.strDataLength) return "string offsets beyond str_data";
  for (let k = 0; k < stringCount; k++) {
    if (c.strOffsets[k] > c.strOffsets[k + 1]) return `string offsets decrease at string ${k}`;
  }
  return null;
}
