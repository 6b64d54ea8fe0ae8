// Reader of the lbsnap binary format (docs/snapshot-format.md): verifies the envelope, then exposes each
// section as a typed-array view on the file's bytes (copying only a misaligned section).
import { crc32 } from "node:zlib";
import { SnapshotError, describeSource } from "../common/errors.js";
import { checkHeader, ELEMENT_SIZE, SECTIONS, SUPPORTED_VERSION, type LbsnapHeader } from "./header.js";
import { EDGE_INDEX, EDGE_OPAQUE, NONE, ROOT_OTHER, type Snapshot, type StringTable } from "./snapshot.js";

export const MAGIC = "LEAKBOOK";
const TRAILER_MAGIC = "LBEND001";
export const TRAILER_LENGTH = 24;
export const PREAMBLE_LENGTH = 16;

type Column = Uint8Array | Uint32Array | Float64Array;

/** Throws the one-line error about one file. */
export type Fail = (what: string) => never;

export function failure(source: string | null): Fail {
  const name = describeSource(source);
  return (what) => {
    throw new SnapshotError(`${name}: ${what}`);
  };
}

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
 * Checks the first bytes of a file of `fileLength` bytes (at least its 16-byte preamble when it has one) and returns
 * the header's length, which must leave room for the trailer.
 */
export function checkPreamble(head: Uint8Array, fileLength: number, fail: Fail): number {
  if (fileLength === 0) fail("empty file");
  if (!looksLikeLbsnap(head)) fail("not a snapshot (no LEAKBOOK magic)");
  if (fileLength < PREAMBLE_LENGTH + TRAILER_LENGTH) fail(`truncated (only ${fileLength} bytes)`);
  const view = new DataView(head.buffer, head.byteOffset, PREAMBLE_LENGTH);
  const version = view.getUint32(8, true);
  if (version !== SUPPORTED_VERSION) {
    fail(`wrong version: format version ${version}, this leakbook reads version ${SUPPORTED_VERSION}`);
  }
  const headerLength = view.getUint32(12, true);
  if (PREAMBLE_LENGTH + headerLength > fileLength - TRAILER_LENGTH) fail("unreadable header (header length beyond end of file)");
  return headerLength;
}

/** Checks the 24-byte trailer of a file of `fileLength` bytes and returns the CRC-32 it records. */
export function checkTrailer(trailer: Uint8Array, fileLength: number, fail: Fail): number {
  if (ascii(trailer, 0, 8) !== TRAILER_MAGIC) fail("truncated (no end-of-file trailer)");
  const view = new DataView(trailer.buffer, trailer.byteOffset, TRAILER_LENGTH);
  const recordedLength = Number(view.getBigUint64(16, true));
  if (recordedLength !== fileLength) {
    fail(recordedLength > fileLength
      ? `truncated (${fileLength} of ${recordedLength} bytes)`
      : `corrupted (file is ${fileLength} bytes, trailer says ${recordedLength})`);
  }
  return view.getUint32(8, true);
}

/** Parses the header's bytes and checks every field against the file (header.ts). */
export function readHeader(headerBytes: Uint8Array, fileLength: number, fail: Fail): LbsnapHeader {
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(headerBytes));
  } catch (error) {
    return fail(`unreadable header (${(error as Error).message})`);
  }
  return checkHeader(raw, { headerEnd: PREAMBLE_LENGTH + headerBytes.length, trailerAt: fileLength - TRAILER_LENGTH }, fail);
}

/**
 * Parses an lbsnap file held in memory. The returned columns are views on `bytes` where alignment allows.
 * `bodyCrc`, when given, is the CRC-32 of everything before the trailer, computed by a reader as the bytes came in.
 */
export function parseLbsnap(bytes: Uint8Array, source: string | null, bodyCrc?: number): Snapshot {
  const fail = failure(source);
  const headerLength = checkPreamble(bytes, bytes.length, fail);
  const trailerAt = bytes.length - TRAILER_LENGTH;
  const recordedCrc = checkTrailer(bytes.subarray(trailerAt), bytes.length, fail);
  if ((bodyCrc ?? crc32(bytes.subarray(0, trailerAt))) !== recordedCrc) fail("corrupted (checksum mismatch)");
  const header = readHeader(bytes.subarray(PREAMBLE_LENGTH, PREAMBLE_LENGTH + headerLength), bytes.length, fail);
  return snapshotOf(bytes, header, source, fail);
}

/** The snapshot whose checked header is `header`, its columns on the whole file's `bytes`, every index checked. */
export function snapshotOf(bytes: Uint8Array, header: LbsnapHeader, source: string | null, fail: Fail): Snapshot {
  const section = <T extends Column>(key: string): T | null => {
    const place = header.sections.get(key);
    if (!place) return null;
    const { dtype } = SECTIONS[key];
    const start = bytes.byteOffset + place.offset;
    if (dtype === "u8") return new Uint8Array(bytes.buffer, start, place.count) as T;
    const Ctor = dtype === "u32" ? Uint32Array : Float64Array;
    if (start % ELEMENT_SIZE[dtype] === 0) return new Ctor(bytes.buffer, start, place.count) as T;
    // Misaligned (bytes handed in at an odd offset): copy this one section.
    return new Ctor(bytes.slice(place.offset, place.offset + place.count * ELEMENT_SIZE[dtype]).buffer) as T;
  };
  // header.ts made sure the sections a full snapshot needs are there with the right counts; a census has none.
  const n = header.objects;
  const address = section<Float64Array>("obj_address") ?? new Float64Array(0);
  const type = section<Uint32Array>("obj_type") ?? new Uint32Array(0);
  const size = section<Float64Array>("obj_size") ?? new Float64Array(0);
  const length = section<Uint32Array>("obj_length") ?? new Uint32Array(n).fill(NONE);
  const flags = section<Uint8Array>("obj_flags") ?? new Uint8Array(n);
  const nameColumn = section<Uint32Array>("obj_name") ?? new Uint32Array(n).fill(NONE);
  const alloc = section<Uint32Array>("obj_alloc");
  const edgeStart = section<Uint32Array>("edge_start") ?? new Uint32Array(1);
  const edgeTarget = section<Uint32Array>("edge_target") ?? new Uint32Array(0);
  const edgeKind = section<Uint8Array>("edge_kind") ?? new Uint8Array(0);
  const edgeLabel = section<Uint32Array>("edge_label") ?? new Uint32Array(0);
  const rootObject = section<Uint32Array>("root_object") ?? new Uint32Array(0);
  const rootKind = section<Uint8Array>("root_kind") ?? new Uint8Array(0);
  const rootLabel = section<Uint32Array>("root_label") ?? new Uint32Array(0);
  const strOffsets = section<Uint32Array>("str_offsets") ?? new Uint32Array(1);
  const strData = section<Uint8Array>("str_data") ?? new Uint8Array(0);
  const strings = new LazyStringTable(strOffsets, strData);

  const problem = checkColumns({
    typeCount: header.types.length, stringCount: strings.count, siteCount: header.allocSites?.length ?? 0,
    address, type, size, nameColumn, alloc, edgeStart, edgeTarget, edgeKind, edgeLabel, rootObject, rootKind, rootLabel,
    strOffsets, strDataLength: strData.length,
  });
  if (problem) fail(`corrupted (${problem})`);

  return {
    source,
    format: "lbsnap",
    kind: header.kind,
    meta: header.meta,
    memory: header.memory,
    types: header.types,
    objectCount: n,
    edgeCount: edgeTarget.length,
    address, type, size, length, flags, name: nameColumn, alloc,
    edgeStart, edgeTarget, edgeKind, edgeLabel,
    rootObject, rootKind, rootLabel,
    strings,
    threads: header.threads,
    lruCaches: header.lruCaches,
    bounds: header.bounds,
    allocSites: header.allocSites,
    census: header.census,
  };
}

interface Columns {
  typeCount: number; stringCount: number; siteCount: number;
  address: Float64Array; type: Uint32Array; size: Float64Array; nameColumn: Uint32Array; alloc: Uint32Array | null;
  edgeStart: Uint32Array; edgeTarget: Uint32Array; edgeKind: Uint8Array; edgeLabel: Uint32Array;
  rootObject: Uint32Array; rootKind: Uint8Array; rootLabel: Uint32Array; strOffsets: Uint32Array; strDataLength: number;
}

/** The high word of the float64 2^53: the numbers in [0, 2^53) have smaller ones. */
const BELOW_2_53 = 0x43400000;

/**
 * Checks every value that points into another column or is read as a number, so that a damaged or crafted file is
 * one message here instead of an out-of-range read or a NaN deep in the graph engine. Returns a description of the
 * first problem, or null. One pass per column group, over typed arrays held in locals: this runs once per load, in a
 * cold process, so the loops are kept few and plain.
 */
function checkColumns(c: Columns): string | null {
  const { typeCount, stringCount, siteCount, address, type, size, nameColumn, alloc } = c;
  const { edgeStart, edgeTarget, edgeKind, edgeLabel, rootObject, rootKind, rootLabel, strOffsets } = c;
  const n = address.length;
  // Sizes and addresses are checked through the high 32 bits of each float64 (the odd words: the file, and the
  // typed arrays on it, are little-endian), which are below 0x43400000 exactly when the number lies in [0, 2^53):
  // NaN, the infinities and negative numbers lie above. Integers keep the loop free of boxed floats while it is
  // still interpreted (it runs once per load, in a cold process).
  const sizeHigh = new Uint32Array(size.buffer, size.byteOffset, 2 * n);
  const addressHigh = new Uint32Array(address.buffer, address.byteOffset, 2 * n);
  // Names as signed integers for the same reason: NONE is -1 there, and any other index of 2^31 or more is below -1.
  const names = new Int32Array(nameColumn.buffer, nameColumn.byteOffset, n);
  for (let i = 0, high = 1; i < n; i++, high += 2) {
    const nameIndex = names[i];
    if (type[i] >= typeCount || nameIndex < -1 || nameIndex >= stringCount || sizeHigh[high] >= BELOW_2_53 || addressHigh[high] >= BELOW_2_53) {
      if (type[i] >= typeCount) return `object ${i} has type index ${type[i]} of ${typeCount}`;
      if (nameColumn[i] !== NONE && nameColumn[i] >= stringCount) return `object ${i} has string index ${nameColumn[i]} of ${stringCount}`;
      return sizeHigh[high] >= BELOW_2_53 ? `object ${i} has size ${size[i]}` : `object ${i} has address ${address[i]}`;
    }
  }
  if (alloc) {
    for (let i = 0; i < n; i++) if (alloc[i] !== NONE && alloc[i] >= siteCount) return `object ${i} has allocation site ${alloc[i]} of ${siteCount}`;
  }
  const edgeCount = edgeTarget.length;
  if (edgeStart[0] !== 0 || edgeStart[n] !== edgeCount) return "edge_start does not span the edges";
  for (let i = 0; i < n; i++) if (edgeStart[i] > edgeStart[i + 1]) return `edge_start decreases at object ${i}`;
  for (let e = 0; e < edgeCount; e++) {
    const target = edgeTarget[e];
    const kind = edgeKind[e];
    if (target >= n || kind > EDGE_OPAQUE || (kind !== EDGE_INDEX && edgeLabel[e] >= stringCount)) {
      if (target >= n) return `edge ${e} points at object ${target} of ${n}`;
      return kind > EDGE_OPAQUE ? `edge ${e} has kind ${kind}` : `edge ${e} has string index ${edgeLabel[e]} of ${stringCount}`;
    }
  }
  for (let r = 0; r < rootObject.length; r++) {
    if (rootObject[r] >= n) return `root ${r} points at object ${rootObject[r]} of ${n}`;
    if (rootKind[r] > ROOT_OTHER) return `root ${r} has kind ${rootKind[r]}`;
    if (rootLabel[r] >= stringCount) return `root ${r} has string index ${rootLabel[r]} of ${stringCount}`;
  }
  if (strOffsets[strOffsets.length - 1] > c.strDataLength) return "string offsets beyond str_data";
  for (let k = 0; k < stringCount; k++) if (strOffsets[k] > strOffsets[k + 1]) return `string offsets decrease at string ${k}`;
  return null;
}
