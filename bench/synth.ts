// Synthetic lbsnap writer: builds a heap of N objects and E references with a realistic type mix and shape
// (module namespaces, dicts, instances with __dict__, lists, tuples, strings, deep chains, cycles) and writes it
// in the format of docs/snapshot-format.md. Used by the benchmark and by tests that need files of any shape.
import { closeSync, openSync, renameSync, writeSync } from "node:fs";
import { crc32 } from "node:zlib";
import { pathToFileURL } from "node:url";
import { EDGE_INDEX, EDGE_OPAQUE, EDGE_SUFFIX, FLAG_TRACKED, FLAG_VALUE, NONE, ROOT_MODULE } from "../src/engine/snapshot.js";

/** Everything an lbsnap file holds, as columns. */
export interface SnapshotColumns {
  types: string[];
  address: Float64Array;
  type: Uint32Array;
  size: Float64Array;
  length: Uint32Array;
  flags: Uint8Array;
  name: Uint32Array;
  edgeStart: Uint32Array;
  edgeTarget: Uint32Array;
  edgeKind: Uint8Array;
  edgeLabel: Uint32Array;
  rootObject: Uint32Array;
  rootKind: Uint8Array;
  rootLabel: Uint32Array;
  strings: string[];
  meta?: Record<string, unknown>;
  /** Further header keys, written over the defaults. */
  header?: Record<string, unknown>;
  version?: number;
}

type Column = Uint8Array | Uint32Array | Float64Array;

function encodeStrings(strings: string[]): { offsets: Uint32Array; data: Uint8Array } {
  const encoder = new TextEncoder();
  const encoded = strings.map((s) => encoder.encode(s));
  const offsets = new Uint32Array(strings.length + 1);
  for (let k = 0; k < encoded.length; k++) offsets[k + 1] = offsets[k] + encoded[k].length;
  const data = new Uint8Array(offsets[strings.length]);
  for (let k = 0; k < encoded.length; k++) data.set(encoded[k], offsets[k]);
  return { offsets, data };
}

const pad8 = (n: number) => (n + 7) & ~7;

/** One writer is one "process": every file it writes shares this start time, as one Python process's do. */
const PROCESS_START = Math.floor(Date.now() / 1000) - 60;

/** Writes the columns as an lbsnap file (to PATH.partial, then renamed, as the Python agent does). */
export function writeLbsnap(path: string, c: SnapshotColumns): void {
  const { offsets, data } = encodeStrings(c.strings);
  const columns: [string, string, Column][] = [
    ["obj_address", "f64", c.address], ["obj_type", "u32", c.type], ["obj_size", "f64", c.size],
    ["obj_length", "u32", c.length], ["obj_flags", "u8", c.flags], ["obj_name", "u32", c.name],
    ["edge_start", "u32", c.edgeStart], ["edge_target", "u32", c.edgeTarget], ["edge_kind", "u8", c.edgeKind],
    ["edge_label", "u32", c.edgeLabel], ["root_object", "u32", c.rootObject], ["root_kind", "u8", c.rootKind],
    ["root_label", "u32", c.rootLabel], ["str_offsets", "u32", offsets], ["str_data", "u8", data],
  ];
  const now = Date.now() / 1000;
  const header: Record<string, unknown> = {
    format: "leakbook-snapshot", version: c.version ?? 1, kind: "full", agent_version: "synthetic",
    meta: { time: new Date(now * 1000).toISOString(), time_unix: now, pid: 1, process_start: PROCESS_START, sequence: 0, ...c.meta },
    memory: { rss: null, rss_peak: null, pymalloc: null, tracemalloc: null },
    counts: { objects: c.address.length, edges: c.edgeTarget.length, roots: c.rootObject.length, strings: c.strings.length, types: c.types.length },
    types: c.types, sections: {}, threads: [], lru_caches: [], alloc_sites: null, census: null, ...c.header,
  };
  // Section offsets depend on the header length, which depends on the offsets: grow the assumed length until
  // the header fits, then pad it with spaces (valid JSON whitespace) to exactly that length.
  let headerLength = 0;
  let headerBytes: Uint8Array;
  for (;;) {
    let offset = pad8(16 + headerLength);
    const sections: Record<string, unknown> = {};
    for (const [key, dtype, column] of columns) {
      sections[key] = { offset, length: column.byteLength, dtype, count: column.length };
      offset = pad8(offset + column.byteLength);
    }
    header.sections = sections;
    const encoded = new TextEncoder().encode(JSON.stringify(header));
    if (encoded.length <= headerLength) {
      headerBytes = new Uint8Array(headerLength).fill(0x20);
      headerBytes.set(encoded);
      break;
    }
    headerLength = encoded.length;
  }
  const fd = openSync(path + ".partial", "w");
  let crc = 0;
  let written = 0;
  const put = (bytes: Uint8Array) => {
    crc = crc32(bytes, crc);
    for (let done = 0; done < bytes.length;) done += writeSync(fd, bytes, done);
    written += bytes.length;
  };
  const padTo8 = () => { if (written % 8) put(new Uint8Array(8 - (written % 8))); };
  const preamble = Buffer.alloc(16);
  preamble.write("LEAKBOOK", 0, "ascii");
  preamble.writeUInt32LE(c.version ?? 1, 8);
  preamble.writeUInt32LE(headerBytes.length, 12);
  put(preamble);
  put(headerBytes);
  padTo8();
  for (const [, , column] of columns) {
    put(new Uint8Array(column.buffer, column.byteOffset, column.byteLength));
    padTo8();
  }
  const trailer = Buffer.alloc(24);
  trailer.write("LBEND001", 0, "ascii");
  trailer.writeUInt32LE(crc >>> 0, 8);
  trailer.writeBigUInt64LE(BigInt(written + 24), 16);
  for (let done = 0; done < 24;) done += writeSync(fd, trailer, done);
  closeSync(fd);
  renameSync(path + ".partial", path);
}

// Type mix, weights in percent of the non-module objects, shallow size and whether the type holds references.
const MIX: { name: string; weight: number; container: boolean }[] = [
  { name: "builtins.str", weight: 30, container: false },
  { name: "builtins.dict", weight: 18, container: true },
  { name: "builtins.tuple", weight: 10, container: true },
  { name: "builtins.list", weight: 8, container: true },
  { name: "builtins.int", weight: 8, container: false },
  { name: "app.models.User", weight: 6, container: true },
  { name: "app.graph.Node", weight: 6, container: true },
  { name: "builtins.function", weight: 5, container: true },
  { name: "builtins.cell", weight: 3, container: true },
  { name: "builtins.float", weight: 3, container: false },
  { name: "builtins.bytes", weight: 2, container: false },
  { name: "builtins.set", weight: 1, container: true },
];
const MODULE_TYPE = MIX.length;
const TYPES = [...MIX.map((m) => m.name), "builtins.module"];
const t = (name: string) => TYPES.indexOf(name);
const T_STR = t("builtins.str"), T_DICT = t("builtins.dict"), T_TUPLE = t("builtins.tuple"), T_LIST = t("builtins.list");
const T_USER = t("app.models.User"), T_NODE = t("app.graph.Node"), T_FUNCTION = t("builtins.function");
const T_CELL = t("builtins.cell"), T_SET = t("builtins.set"), T_INT = t("builtins.int"), T_FLOAT = t("builtins.float");

/** Deterministic xorshift32 generator in [0, 1). */
export function random(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    return s / 4294967296;
  };
}

/**
 * Builds a synthetic heap: `objects` objects (a module per 10,000 objects, at least 4) and exactly `edges`
 * references (at least one per non-module object: the spanning tree that makes everything reachable).
 */
export function synthesize(objects: number, edges: number, seed = 1): SnapshotColumns {
  const rand = random(seed);
  const moduleCount = Math.max(4, Math.floor(objects / 10_000));
  if (objects <= moduleCount || edges < objects - moduleCount) throw new Error("synthesize: need objects > modules and edges >= objects - modules");

  const type = new Uint32Array(objects);
  const cumulative: number[] = [];
  let total = 0;
  for (const m of MIX) cumulative.push((total += m.weight));
  const containers = new Uint32Array(objects);
  let containerCount = 0;
  for (let i = 0; i < objects; i++) {
    if (i < moduleCount) type[i] = MODULE_TYPE;
    else {
      const r = rand() * total;
      let k = 0;
      while (cumulative[k] <= r) k++;
      type[i] = k;
    }
    if (i < moduleCount || MIX[type[i]].container) containers[containerCount++] = i;
  }

  // Edge list: first the spanning tree (each object gets a parent created before it), then extra references.
  const source = new Uint32Array(edges);
  const target = new Uint32Array(edges);
  let e = 0;
  let lastNode = NONE;
  let seenContainers = 0;
  for (let i = 0; i < objects; i++) {
    if (i >= moduleCount) {
      // Nodes form long linked chains (deep dominator trees); everything else hangs off a random earlier container.
      const parent = type[i] === T_NODE && lastNode !== NONE && rand() < 0.9
        ? lastNode
        : containers[Math.floor(rand() * seenContainers)];
      source[e] = parent; target[e] = i; e++;
    }
    if (type[i] === T_NODE) lastNode = i;
    if (seenContainers < containerCount && containers[seenContainers] === i) seenContainers++;
  }
  const hotSet = Math.max(moduleCount + 1, Math.floor(objects / 100));
  for (; e < edges; e++) {
    source[e] = containers[Math.floor(rand() * containerCount)];
    // Half of the extra references point at a small hot set (shared strings, small ints, popular objects), a third
    // at neighbours (siblings and parents: local cycles), the rest anywhere (cross links that also close cycles).
    const r = rand();
    const s = source[e];
    target[e] = r < 0.5 ? Math.floor(rand() * hotSet)
      : r < 0.85 ? Math.min(objects - 1, Math.max(0, s - 256 + Math.floor(rand() * 512)))
      : Math.floor(rand() * objects);
  }

  // Group by source (counting sort) into CSR.
  const edgeStart = new Uint32Array(objects + 1);
  for (let k = 0; k < edges; k++) edgeStart[source[k] + 1]++;
  for (let i = 0; i < objects; i++) edgeStart[i + 1] += edgeStart[i];
  const fill = edgeStart.slice(0, objects);
  const edgeTarget = new Uint32Array(edges);
  for (let k = 0; k < edges; k++) edgeTarget[fill[source[k]]++] = target[k];

  const strings: string[] = [];
  const KEY_COUNT = 1000, VALUE_COUNT = 1000;
  for (let k = 0; k < KEY_COUNT; k++) strings.push(`['key${k}']`);
  const VALUES = strings.length;
  for (let k = 0; k < VALUE_COUNT; k++) strings.push(`value ${k} ${"x".repeat(k % 40)}`);
  const DICT_ATTR = strings.push(".__dict__") - 1;
  const CELL_CONTENTS = strings.push(".cell_contents") - 1;
  const CLOSURE = strings.push(".__closure__[0]") - 1;
  const SET_MEMBER = strings.push("<set member>") - 1;
  const REFERENT = strings.push("<referent>") - 1;
  const MODULE_NAMES = strings.length;
  for (let m = 0; m < moduleCount; m++) strings.push(`app.module${m}`);
  const ROOT_LABELS = strings.length;
  for (let m = 0; m < moduleCount; m++) strings.push(`sys.modules['app.module${m}']`);

  const edgeKind = new Uint8Array(edges);
  const edgeLabel = new Uint32Array(edges);
  const address = new Float64Array(objects);
  const size = new Float64Array(objects);
  const length = new Uint32Array(objects).fill(NONE);
  const flags = new Uint8Array(objects);
  const name = new Uint32Array(objects).fill(NONE);
  for (let i = 0; i < objects; i++) {
    // A bijection of i scattered over a 64 GiB range, 16-byte aligned like CPython's allocations.
    address[i] = 0x7f0000000000 + (Math.imul(i, 0x9e3779b1) >>> 0) * 16;
    const ty = type[i];
    const from = edgeStart[i], to = edgeStart[i + 1], degree = to - from;
    for (let k = from; k < to; k++) {
      if (ty === T_LIST || ty === T_TUPLE) { edgeKind[k] = EDGE_INDEX; edgeLabel[k] = k - from; }
      else if (ty === T_DICT || ty === MODULE_TYPE) { edgeKind[k] = EDGE_SUFFIX; edgeLabel[k] = (k - from) % KEY_COUNT; }
      else if (ty === T_USER || ty === T_NODE) { edgeKind[k] = EDGE_SUFFIX; edgeLabel[k] = k === from ? DICT_ATTR : (k - from) % KEY_COUNT; }
      else if (ty === T_CELL) { edgeKind[k] = EDGE_SUFFIX; edgeLabel[k] = CELL_CONTENTS; }
      else if (ty === T_FUNCTION) { edgeKind[k] = EDGE_SUFFIX; edgeLabel[k] = CLOSURE; }
      else if (ty === T_SET) { edgeKind[k] = EDGE_OPAQUE; edgeLabel[k] = SET_MEMBER; }
      else { edgeKind[k] = EDGE_OPAQUE; edgeLabel[k] = REFERENT; }
    }
    if (ty === MODULE_TYPE) { size[i] = 72; name[i] = MODULE_NAMES + i; }
    else if (ty === T_STR) {
      const v = Math.floor(rand() * VALUE_COUNT);
      length[i] = 8 + (v % 40); size[i] = 49 + length[i]; name[i] = VALUES + v; flags[i] = FLAG_VALUE;
    } else if (ty === T_INT) size[i] = 28;
    else if (ty === T_FLOAT) size[i] = 24;
    else if (ty === t("builtins.bytes")) { length[i] = 16 + (i % 200); size[i] = 33 + length[i]; }
    else {
      flags[i] = FLAG_TRACKED;
      if (ty === T_DICT) { length[i] = degree; size[i] = degree <= 5 ? 232 : 640 + 16 * degree; }
      else if (ty === T_LIST) { length[i] = degree; size[i] = 56 + 8 * degree; }
      else if (ty === T_TUPLE) { length[i] = degree; size[i] = 40 + 8 * degree; }
      else if (ty === T_SET) { length[i] = degree; size[i] = 216 + 32 * degree; }
      else if (ty === T_FUNCTION) size[i] = 152;
      else if (ty === T_CELL) size[i] = 40;
      else size[i] = 56;
    }
  }
  const rootObject = new Uint32Array(moduleCount);
  const rootLabel = new Uint32Array(moduleCount);
  for (let m = 0; m < moduleCount; m++) { rootObject[m] = m; rootLabel[m] = ROOT_LABELS + m; }
  return {
    types: TYPES, address, type, size, length, flags, name, edgeStart, edgeTarget, edgeKind, edgeLabel,
    rootObject, rootKind: new Uint8Array(moduleCount).fill(ROOT_MODULE), rootLabel, strings,
  };
}

// `node dist/bench/synth.js OUT.lbsnap OBJECTS EDGES [SEED]`: generate one file (the benchmark runs this in a
// child process so that generation memory does not count against the loader).
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [out, objects, edges, seed] = process.argv.slice(2);
  if (!out || !objects || !edges) {
    process.stderr.write("usage: node dist/bench/synth.js OUT.lbsnap OBJECTS EDGES [SEED]\n");
    process.exit(2);
  }
  writeLbsnap(out, synthesize(Number(objects), Number(edges), seed ? Number(seed) : 1));
}
