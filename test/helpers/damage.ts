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
