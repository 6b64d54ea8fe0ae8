// Importer for meliae-style dumps: one JSON object per line with address/type/size/name/len/value/refs
// (the format of meliae and pyrasite). Builds the same typed-array columns as the lbsnap reader, streaming
// the input line by line. No roots are recorded in such dumps: modules and objects nobody references act as roots.
import { SnapshotError, describeSource } from "../common/errors.js";
import { LazyStringTable } from "./format.js";
import {
  EDGE_INDEX, EDGE_OPAQUE, EDGE_SUFFIX, FLAG_TRUNCATED, FLAG_VALUE, NONE, ROOT_MODULE, ROOT_OTHER, type Snapshot,
} from "./snapshot.js";
import { formatAddress, formatBytes } from "../common/units.js";

/** True when the first non-blank line of the text is a JSON object with an "address" key. */
export function looksLikeMeliae(head: Uint8Array): boolean {
  const text = new TextDecoder().decode(head);
  const line = text.split("\n").find((l) => l.trim() !== "");
  if (line === undefined || !line.trimStart().startsWith("{")) return false;
  try {
    const record = JSON.parse(line);
    return record !== null && typeof record === "object" && "address" in record;
  } catch {
    return false;
  }
}

/** Python's repr() of a str: single quotes unless the text contains ' and no ", escapes as CPython writes them. */
export function pyRepr(text: string): string {
  const quote = text.includes("'") && !text.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    if (ch === quote || ch === "\\") out += "\\" + ch;
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (NON_PRINTABLE.test(ch)) {
      out += code < 0x100 ? "\\x" + hex(code, 2) : code < 0x10000 ? "\\u" + hex(code, 4) : "\\U" + hex(code, 8);
    } else out += ch;
  }
  return out + quote;
}
const hex = (n: number, width: number) => n.toString(16).padStart(width, "0");
// What str.isprintable() rejects: control, format, surrogate, private-use, unassigned and separator characters but space.
const NON_PRINTABLE = /^(?! )[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Zs}]$/u;

/** A typed array that grows by doubling. */
class Growable<T extends Float64Array | Uint32Array | Uint8Array> {
  length = 0;
  constructor(private data: T, private readonly make: (n: number) => T) {}
  push(value: number): void {
    if (this.length === this.data.length) {
      const bigger = this.make(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data[this.length++] = value;
  }
  at(index: number): number {
    return this.data[index];
  }
  finish(): T {
    return this.data.slice(0, this.length) as T;
  }
}
const f64 = () => new Growable(new Float64Array(1024), (n) => new Float64Array(n));
const u32 = () => new Growable(new Uint32Array(1024), (n) => new Uint32Array(n));
const u8 = () => new Growable(new Uint8Array(1024), (n) => new Uint8Array(n));

/** UTF-8 string table built incrementally; repeated names and labels are stored once. */
class StringTableBuilder {
  private readonly encoder = new TextEncoder();
  private data = new Uint8Array(1 << 16);
  private used = 0;
  private readonly offsets = u32();
  // Dedup index over strings (not heap objects); cleared when large so it stays below V8's Map limit.
  private readonly seen = new Map<string, number>();
  constructor() {
    this.offsets.push(0);
  }
  add(text: string): number {
    const known = this.seen.get(text);
    if (known !== undefined) return known;
    while (this.data.length - this.used < text.length * 3) {
      const bigger = new Uint8Array(this.data.length * 2);
      bigger.set(this.data.subarray(0, this.used));
      this.data = bigger;
    }
    this.used += this.encoder.encodeInto(text, this.data.subarray(this.used)).written;
    this.offsets.push(this.used);
    const index = this.offsets.length - 2;
    if (this.seen.size >= 1 << 22) this.seen.clear();
    this.seen.set(text, index);
    return index;
  }
  get(index: number): string {
    return new TextDecoder().decode(this.data.subarray(this.offsets.at(index), this.offsets.at(index + 1)));
  }
  finish(): LazyStringTable {
    return new LazyStringTable(this.offsets.finish(), this.data.slice(0, this.used));
  }
}

const STR_TYPES = new Set(["str", "unicode"]);
/** The longest line read (a list of millions of references is one line); a longer one is not a meliae dump. */
const MAX_LINE = 256 * 1024 * 1024;

const isWhole = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
/** A JSON value as it appears in a message, cut short. */
const shown = (v: unknown) => {
  const text = JSON.stringify(v) ?? String(v);
  return text.length > 40 ? text.slice(0, 37) + "..." : text;
};
const VALUE_TYPES = new Set(["str", "unicode", "bytes", "int", "long", "float", "bool"]);
const SEQUENCE_TYPES = new Set(["list", "tuple"]);

/**
 * Imports a meliae dump from a stream of byte chunks. `timeUnix` stands in for the capture time, which the
 * format does not record (the loader passes the file's modification time).
 */
export async function importMeliae(chunks: AsyncIterable<Uint8Array>, source: string | null, timeUnix: number): Promise<Snapshot> {
  const name = describeSource(source);
  const typeIndex = new Map<string, number>();
  const types: string[] = [];
  const strings = new StringTableBuilder();
  const address = f64(), type = u32(), size = f64(), length = u32(), flags = u8(), nameColumn = u32();
  const refStart = u32(), refAddress = f64();
  refStart.push(0);

  let lineNumber = 0;
  const bad = (what: string): never => {
    throw new SnapshotError(`${name}: line ${lineNumber} ${what}`);
  };
  const readLine = (line: string) => {
    lineNumber++;
    if (line.trim() === "") return;
    let record: { address?: unknown; type?: unknown; size?: unknown; name?: unknown; len?: unknown; value?: unknown; refs?: unknown };
    try {
      record = JSON.parse(line);
    } catch {
      return bad("is not valid JSON");
    }
    if (record === null || typeof record !== "object" || Array.isArray(record)) bad("is not a JSON object");
    if (!isWhole(record.address)) bad(`has address ${shown(record.address)}, expected a whole number`);
    if (record.type !== undefined && typeof record.type !== "string") bad(`has type ${shown(record.type)}, expected text`);
    if (record.size !== undefined && !isWhole(record.size)) bad(`has size ${shown(record.size)}, expected a whole number of bytes`);
    if (record.len !== undefined && record.len !== null && !isWhole(record.len)) bad(`has len ${shown(record.len)}, expected a whole number`);
    if (record.refs !== undefined && !(Array.isArray(record.refs) && record.refs.every(isWhole))) bad("has refs that are not a list of addresses");
    address.push(record.address as number);
    const typeName = (record.type as string | undefined) ?? "<unknown>";
    let t = typeIndex.get(typeName);
    if (t === undefined) {
      t = types.push(typeName) - 1;
      typeIndex.set(typeName, t);
    }
    type.push(t);
    size.push((record.size as number | undefined) ?? 0);
    const len = typeof record.len === "number" ? record.len : null;
    // Lengths saturate below NONE ("no length"), as in lbsnap files.
    length.push(len === null ? NONE : Math.min(len, NONE - 1));
    let flag = 0;
    let label = NONE;
    const value = record.value;
    if ((typeof value === "string" || typeof value === "number" || typeof value === "boolean") && VALUE_TYPES.has(typeName)) {
      const text = String(value);
      label = strings.add(text);
      flag |= FLAG_VALUE;
      if (STR_TYPES.has(typeName) && len !== null && [...text].length < len) flag |= FLAG_TRUNCATED;
    } else if (typeof record.name === "string") label = strings.add(record.name);
    else if (typeof value === "string") label = strings.add(value); // e.g. a frame's co_name
    flags.push(flag);
    nameColumn.push(label);
    if (record.refs) for (const ref of record.refs as number[]) refAddress.push(ref);
    refStart.push(refAddress.length);
  };

  const decoder = new TextDecoder();
  let carry = "";
  for await (const chunk of chunks) {
    const lastNewline = chunk.lastIndexOf(10);
    if (lastNewline < 0) {
      carry += decoder.decode(chunk, { stream: true });
      if (carry.length > MAX_LINE) {
        lineNumber++;
        bad(`is longer than ${formatBytes(MAX_LINE)} (not a meliae dump?)`);
      }
      continue;
    }
    const lines = (carry + decoder.decode(chunk.subarray(0, lastNewline + 1), { stream: true })).split("\n");
    carry = decoder.decode(chunk.subarray(lastNewline + 1), { stream: true });
    for (let k = 0; k < lines.length - 1; k++) readLine(lines[k]);
  }
  readLine(carry + decoder.decode());
  if (address.length === 0) throw new SnapshotError(`${name}: empty meliae dump (no objects)`);

  const objects = address.finish();
  const objectType = type.finish();
  const objectFlags = flags.finish();
  const objectName = nameColumn.finish();
  const starts = refStart.finish();
  const refs = refAddress.finish();
  const findObject = addressLookup(objects, name);
  const table = strings;

  // Resolve references to object indices and label them; references to unknown addresses are dropped.
  const isType = (set: Set<string>, i: number) => set.has(types[objectType[i]]);
  const edgeStart = new Uint32Array(objects.length + 1);
  const edgeTarget = u32(), edgeKind = u8(), edgeLabel = u32();
  const DICT_KEY = table.add("<dict key>"), DICT_VALUE = table.add("<dict value>"), REFERENT = table.add("<referent>");
  const DICT_ATTR = table.add(".__dict__");
  let dropped = 0;
  const referenced = new Uint8Array(objects.length);
  for (let i = 0; i < objects.length; i++) {
    const typeName = types[objectType[i]];
    for (let r = starts[i], position = 0; r < starts[i + 1]; r++, position++) {
      const target = findObject(refs[r]);
      if (target === NONE) {
        dropped++;
        continue;
      }
      let kind = EDGE_OPAQUE;
      let label = REFERENT;
      if (typeName === "dict") {
        if (position % 2 === 0) label = DICT_KEY;
        else {
          const key = findObject(refs[r - 1]);
          label = key === NONE ? DICT_VALUE : table.add(`<value of key #${key}>`);
          if (key !== NONE && isType(STR_TYPES, key) && (objectFlags[key] & (FLAG_VALUE | FLAG_TRUNCATED)) === FLAG_VALUE) {
            kind = EDGE_SUFFIX;
            label = table.add(`[${pyRepr(table.get(objectName[key]))}]`);
          }
        }
      } else if (SEQUENCE_TYPES.has(typeName)) {
        kind = EDGE_INDEX;
        label = position;
      } else if (typeName === "module" && types[objectType[target]] === "dict") {
        kind = EDGE_SUFFIX;
        label = DICT_ATTR;
      }
      if (target !== i) referenced[target] = 1; // a self-reference does not keep an object alive
      edgeTarget.push(target);
      edgeKind.push(kind);
      edgeLabel.push(label);
    }
    edgeStart[i + 1] = edgeTarget.length;
  }

  // Roots: every module, then every object that no other object references.
  const targets = edgeTarget.finish();
  const rootObject = u32(), rootKind = u8(), rootLabel = u32();
  for (let i = 0; i < objects.length; i++) {
    if (types[objectType[i]] === "module") {
      rootObject.push(i);
      rootKind.push(ROOT_MODULE);
      const moduleName = objectName[i] === NONE ? null : table.get(objectName[i]);
      rootLabel.push(table.add(moduleName === null ? `<module ${formatAddress(objects[i])}>` : `sys.modules[${pyRepr(moduleName)}]`));
    } else if (!referenced[i]) {
      rootObject.push(i);
      rootKind.push(ROOT_OTHER);
      rootLabel.push(table.add(`<unreferenced ${formatAddress(objects[i])}>`));
    }
  }

  const warnings: string[] = [];
  if (dropped > 0) warnings.push(`${name}: ${dropped} references to addresses not in the dump were dropped`);
  return {
    source,
    format: "meliae",
    kind: "full",
    meta: { time: new Date(timeUnix * 1000).toISOString(), time_unix: timeUnix, pid: 0, process_start: 0, warnings, dropped_references: dropped },
    memory: { rss: null, rss_peak: null, pymalloc: null, tracemalloc: null },
    types,
    objectCount: objects.length,
    edgeCount: targets.length,
    address: objects,
    type: objectType,
    size: size.finish(),
    length: length.finish(),
    flags: objectFlags,
    name: objectName,
    alloc: null,
    edgeStart,
    edgeTarget: targets,
    edgeKind: edgeKind.finish(),
    edgeLabel: edgeLabel.finish(),
    rootObject: rootObject.finish(),
    rootKind: rootKind.finish(),
    rootLabel: rootLabel.finish(),
    strings: table.finish(),
    threads: [],
    lruCaches: [],
    bounds: new Map(),
    allocSites: null,
    census: null,
  };
}

/**
 * Address -> object index by binary search over the sorted addresses (a Map keyed by object would hit V8's
 * 2^24-entry limit). Returns NONE for an address not in the dump. An address twice in the dump is an error: the
 * references to it could not be told apart.
 */
function addressLookup(addresses: Float64Array, name: string): (address: number) => number {
  const sorted = addresses.slice().sort();
  for (let k = 1; k < sorted.length; k++) {
    if (sorted[k] === sorted[k - 1]) throw new SnapshotError(`${name}: address ${formatAddress(sorted[k])} is in the dump twice`);
  }
  const indexOfRank = new Uint32Array(sorted.length);
  const rankOf = (address: number): number => {
    let lo = 0, hi = sorted.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (sorted[mid] < address) lo = mid + 1;
      else if (sorted[mid] > address) hi = mid - 1;
      else return mid;
    }
    return -1;
  };
  for (let i = 0; i < addresses.length; i++) indexOfRank[rankOf(addresses[i])] = i;
  return (address) => {
    const rank = rankOf(address);
    return rank < 0 ? NONE : indexOfRank[rank];
  };
}
