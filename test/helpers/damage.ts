// Damaged copies of a valid lbsnap file, one per way a reader must reject a file.
import { crc32 } from "node:zlib";

/** Recomputes the trailer CRC so that only the intended damage remains. */
function reseal(bytes: Uint8Array): Uint8Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  view.setUint32(bytes.length - 16, crc32(bytes.subarray(0, bytes.length - 24)), true);
  return bytes;
}

/** name -> [damaged bytes, text the error message must contain]. */
export function damagedVariants(valid: Uint8Array): Record<string, [Uint8Array, string]> {
  // new Uint8Array(x) copies (Buffer#slice would not).
  const copy = () => new Uint8Array(valid);
  const flipped = copy();
  flipped[Math.floor(valid.length * 0.6)] ^= 0x5a;
  const wrongVersion = copy();
  new DataView(wrongVersion.buffer).setUint32(8, 99, true);
  const badHeader = copy();
  badHeader[16] = "x".charCodeAt(0); // the header's opening brace
  return {
    empty: [new Uint8Array(0), "empty"],
    truncated: [copy().slice(0, Math.floor(valid.length / 2)), "truncated"],
    "truncated to a few bytes": [copy().slice(0, 5), "truncated"],
    corrupted: [flipped, "corrupted"],
    "wrong version": [wrongVersion, "wrong version"],
    "not a snapshot": [new TextEncoder().encode("hello, this is not a heap snapshot\n"), "not a snapshot"],
    "unreadable header": [reseal(badHeader), "unreadable header"],
  };
}

/** The same file with its CRC recomputed: only the intended damage remains. */
export function resealed(bytes: Uint8Array): Uint8Array {
  return reseal(new Uint8Array(bytes));
}

const pad8 = (n: number) => (n + 7) & ~7;

/** The header of an lbsnap file, parsed. */
export function headerOf(file: Uint8Array): Record<string, any> {
  const length = new DataView(file.buffer, file.byteOffset, file.byteLength).getUint32(12, true);
  return JSON.parse(new TextDecoder().decode(file.subarray(16, 16 + length)));
}

/**
 * A copy of a valid lbsnap file with another header: `change` edits the parsed header in place (its section offsets
 * already moved to where the sections now lie), or returns the header text to write instead (to write what JSON.stringify
 * cannot, such as NaN). The sections are moved to make room, the trailer is rewritten, the CRC recomputed.
 */
export function withHeader(valid: Uint8Array, change: (header: Record<string, any>) => string | void): Uint8Array {
  const original = headerOf(valid);
  const trailerAt = valid.length - 24;
  const offsets = Object.values(original.sections ?? {}).map((s: any) => s.offset as number);
  const dataStart = offsets.length > 0 ? Math.min(...offsets) : trailerAt;
  const text = (delta: number) => {
    const header = structuredClone(original);
    for (const s of Object.values(header.sections ?? {}) as any[]) s.offset += delta;
    return change(header) ?? JSON.stringify(header);
  };
  const encoder = new TextEncoder();
  // Room for the new header, with slack for offsets that gain digits when moved.
  const start = pad8(16 + encoder.encode(text(0)).length + 64);
  const headerBytes = encoder.encode(text(start - dataStart));
  if (16 + headerBytes.length > start) throw new Error("withHeader: the header outgrew its room");
  const out = new Uint8Array(start + (trailerAt - dataStart) + 24);
  out.set(encoder.encode("LEAKBOOK"), 0);
  const view = new DataView(out.buffer);
  view.setUint32(8, new DataView(valid.buffer, valid.byteOffset).getUint32(8, true), true);
  out.set(headerBytes, 16);
  out.fill(0x20, 16 + headerBytes.length, start); // JSON whitespace up to the first section
  view.setUint32(12, start - 16, true);
  out.set(valid.subarray(dataStart, trailerAt), start);
  out.set(encoder.encode("LBEND001"), out.length - 24);
  view.setBigUint64(out.length - 8, BigInt(out.length), true);
  return reseal(out);
}

/** A writable view on one section of a file's bytes: edit a copy of the file through it, then reseal the copy. */
export function sectionOf(file: Uint8Array, name: string): Uint8Array | Uint32Array | Float64Array {
  const s = headerOf(file).sections[name];
  if (s.dtype === "u8") return file.subarray(s.offset, s.offset + s.count);
  // Sections start at multiples of 8: in a copy of its own (byteOffset 0) every view is aligned.
  if ((file.byteOffset + s.offset) % 8 !== 0) throw new Error("sectionOf: pass a copy of the file (new Uint8Array(bytes))");
  return s.dtype === "u32" ? new Uint32Array(file.buffer, file.byteOffset + s.offset, s.count) : new Float64Array(file.buffer, file.byteOffset + s.offset, s.count);
}
