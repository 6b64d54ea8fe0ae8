// The JSON header of an lbsnap file, checked field by field before anything it describes is read: every value the
// library uses has the type and range docs/snapshot-format.md gives it, and the sections lie inside the file,
// aligned and apart. A file that breaks any of this is rejected with one line naming the field.
import type {
  AllocFrame, CensusInfo, LruCacheInfo, MemoryInfo, SnapshotMeta, ThreadInfo,
} from "./snapshot.js";

export type Dtype = "u8" | "u32" | "f64";

export const ELEMENT_SIZE: Record<Dtype, number> = { u8: 1, u32: 4, f64: 8 };

/** Where a section lies: byte offset from the start of the file, and its element count. */
export interface SectionPlace {
  offset: number;
  count: number;
}

/** How many entries of which sections there are: what `counts` must match and the columns are checked against. */
export type CountOf = "objects" | "objects+1" | "edges" | "roots" | "strings+1" | "any";

/** The sections this reader knows, their dtype and their length. Others are ignored, as the format allows. */
export const SECTIONS: Record<string, { dtype: Dtype; count: CountOf }> = {
  obj_address: { dtype: "f64", count: "objects" },
  obj_type: { dtype: "u32", count: "objects" },
  obj_size: { dtype: "f64", count: "objects" },
  obj_length: { dtype: "u32", count: "objects" },
  obj_flags: { dtype: "u8", count: "objects" },
  obj_name: { dtype: "u32", count: "objects" },
  obj_alloc: { dtype: "u32", count: "objects" },
  edge_start: { dtype: "u32", count: "objects+1" },
  edge_target: { dtype: "u32", count: "edges" },
  edge_kind: { dtype: "u8", count: "edges" },
  edge_label: { dtype: "u32", count: "edges" },
  root_object: { dtype: "u32", count: "roots" },
  root_kind: { dtype: "u8", count: "roots" },
  root_label: { dtype: "u32", count: "roots" },
  str_offsets: { dtype: "u32", count: "strings+1" },
  str_data: { dtype: "u8", count: "any" },
};

/** Sections a full snapshot cannot do without; the others have defaults (docs/snapshot-format.md). */
const REQUIRED = ["obj_address", "obj_type", "obj_size", "edge_start", "edge_target", "edge_kind", "edge_label"];
/** Sections that come together or not at all. */
const TOGETHER = [["root_object", "root_kind", "root_label"], ["str_offsets", "str_data"]];

/** The header as the reader uses it: every field checked, defaults filled in. */
export interface LbsnapHeader {
  kind: "full" | "census";
  meta: SnapshotMeta;
  memory: MemoryInfo;
  types: string[];
  sections: Map<string, SectionPlace>;
  /** Objects and references (obj_address's and edge_target's counts; 0 in a census). */
  objects: number;
  edges: number;
  threads: ThreadInfo[];
  lruCaches: LruCacheInfo[];
  /** Object index -> the most items it can hold (Snapshot.bounds). */
  bounds: Map<number, number>;
  allocSites: AllocFrame[][] | null;
  census: CensusInfo | null;
}

/** Where the header's sections may lie: after the header, before the trailer. */
export interface FileBounds {
  headerEnd: number;
  trailerAt: number;
}

type Fail = (what: string) => never;

const FORMAT_NAME = "leakbook-snapshot";
export const SUPPORTED_VERSION = 1;

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => v !== null && typeof v === "object" && !Array.isArray(v);
const isWhole = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
const isAmount = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v) && v >= 0;
const isString = (v: unknown): v is string => typeof v === "string";
const isBoolean = (v: unknown): v is boolean => typeof v === "boolean";
const orNull = <T>(test: (v: unknown) => v is T) => (v: unknown): v is T | null => v === null || test(v);

/** A value as it appears in a message: JSON, cut short. */
function shown(value: unknown): string {
  const text = value === undefined ? "missing" : JSON.stringify(value) ?? String(value);
  return text.length > 40 ? text.slice(0, 37) + "..." : text;
}

/** Checks the parsed header against the file it came from; `fail` throws the one-line error. */
export function checkHeader(raw: unknown, file: FileBounds, fail: Fail): LbsnapHeader {
  const bad = (path: string, value: unknown, expected: string): never =>
    fail(`unreadable header (${path} is ${shown(value)}, expected ${expected})`);
  /** `value` when `test` accepts it, else the error naming `path`. */
  const want = <T>(value: unknown, test: (v: unknown) => v is T, path: string, expected: string): T =>
    test(value) ? value : bad(path, value, expected);
  /** An optional field: absent stays undefined. */
  const maybe = <T>(value: unknown, test: (v: unknown) => v is T, path: string, expected: string): T | undefined =>
    value === undefined ? undefined : want(value, test, path, expected);
  const list = <T>(value: unknown, path: string, item: (v: unknown, at: string) => T): T[] =>
    want(value, Array.isArray, path, "a list").map((v, k) => item(v, `${path}[${k}]`));

  if (!isObject(raw)) return fail("unreadable header (not a JSON object)");
  if (raw.format !== FORMAT_NAME) bad("format", raw.format, `"${FORMAT_NAME}"`);
  if (raw.version !== SUPPORTED_VERSION) {
    if (typeof raw.version === "number") fail(`wrong version: header version ${raw.version}, this leakbook reads version ${SUPPORTED_VERSION}`);
    bad("version", raw.version, String(SUPPORTED_VERSION));
  }
  const kind = raw.kind === "full" || raw.kind === "census" ? raw.kind : bad("kind", raw.kind, '"full" or "census"');
  maybe(raw.agent_version, isString, "agent_version", "text");

  const types = list(raw.types, "types", (v, at) => want(v, isString, at, "text"));
  const { sections, objects, edges, roots, strings } = kind === "full"
    ? checkSections(raw.sections, file, bad, fail)
    : noSections(raw.sections, bad);
  if (kind === "census" && types.length > 0) bad("types", raw.types, "[] in a census snapshot");

  const index = (v: unknown, at: string): number => want(v, (x): x is number => isWhole(x) && x < objects, at, `an object index below ${objects}`);
  const threads = list(raw.threads ?? [], "threads", (v, at): ThreadInfo => {
    const t = want(v, isObject, at, "an object");
    return {
      ident: want(t.ident, (x): x is number => isAmount(x) && Number.isInteger(x), `${at}.ident`, "a whole number"),
      name: want(t.name, orNull(isString), `${at}.name`, "text or null"),
      daemon: want(t.daemon, orNull(isBoolean), `${at}.daemon`, "true, false or null"),
      frame: t.frame === null ? null : index(t.frame, `${at}.frame`),
    };
  });
  // An entry whose figures the agent could not read (no hits) says nothing about the cache: it is left out.
  const lruCaches = list(raw.lru_caches ?? [], "lru_caches", (v, at): LruCacheInfo | null => {
    const c = want(v, isObject, at, "an object");
    const object = c.object === null ? null : index(c.object, `${at}.object`);
    const name = want(c.name, orNull(isString), `${at}.name`, "text or null");
    const typed = want(c.typed ?? null, orNull(isBoolean), `${at}.typed`, "true, false or null");
    if (object === null || c.hits === undefined) return null;
    return {
      object, name, typed,
      hits: want(c.hits, isWhole, `${at}.hits`, "a whole number"),
      misses: want(c.misses, isWhole, `${at}.misses`, "a whole number"),
      currsize: want(c.currsize, isWhole, `${at}.currsize`, "a whole number"),
      maxsize: want(c.maxsize, orNull(isWhole), `${at}.maxsize`, "a whole number or null"),
    };
  }).filter((c): c is LruCacheInfo => c !== null);
  // One bound per object; should one repeat, the smallest holds.
  const bounds = new Map<number, number>();
  list(raw.bounds ?? [], "bounds", (v, at) => {
    if (!Array.isArray(v) || v.length !== 2 || !isWhole(v[1])) bad(at, v, "[object index, bound]");
    const [object, bound] = [index((v as unknown[])[0], `${at}[0]`), (v as number[])[1]];
    bounds.set(object, Math.min(bound, bounds.get(object) ?? Infinity));
  });
  const allocSites = raw.alloc_sites === null || raw.alloc_sites === undefined ? null
    : list(raw.alloc_sites, "alloc_sites", (site, at) => list(site, at, (v, frameAt): AllocFrame => {
      const f = want(v, isObject, frameAt, "an object");
      return { file: want(f.file, isString, `${frameAt}.file`, "text"), line: want(f.line, isWhole, `${frameAt}.line`, "a whole number") };
    }));
  const census = kind === "census" ? checkCensus(raw.census, bad) : null;
  if (kind === "full" && raw.census !== null && raw.census !== undefined) bad("census", raw.census, "null in a full snapshot");

  const meta = checkMeta(raw.meta, want, maybe, list);
  const memory = checkMemory(raw.memory, want, maybe);
  if (raw.counts !== undefined) {
    const counts = want(raw.counts, isObject, "counts", "an object");
    const actual: Record<string, number> = kind === "full"
      ? { objects, edges, roots, strings, types: types.length }
      : { objects: census!.objects };
    for (const [key, value] of Object.entries(actual)) {
      if (counts[key] !== undefined && counts[key] !== value) fail(`corrupted (counts.${key} is ${shown(counts[key])}, the sections hold ${value})`);
    }
  }
  return { kind, meta, memory, types, sections, objects, edges, threads, lruCaches, bounds, allocSites, census };
}

type Want = <T>(value: unknown, test: (v: unknown) => v is T, path: string, expected: string) => T;
type Maybe = <T>(value: unknown, test: (v: unknown) => v is T, path: string, expected: string) => T | undefined;
type List = <T>(value: unknown, path: string, item: (v: unknown, at: string) => T) => T[];
type Bad = (path: string, value: unknown, expected: string) => never;

interface Sections {
  sections: Map<string, SectionPlace>;
  objects: number;
  edges: number;
  roots: number;
  strings: number;
}

/** The section table of a full snapshot: known names, dtypes, counts that agree, inside the file, aligned, apart. */
function checkSections(raw: unknown, file: FileBounds, bad: Bad, fail: Fail): Sections {
  if (!isObject(raw)) return bad("sections", raw, "an object");
  const found = new Map<string, SectionPlace & { end: number }>();
  for (const [name, { dtype }] of Object.entries(SECTIONS)) {
    const entry = raw[name];
    if (entry === undefined) continue;
    const at = `sections.${name}`;
    if (!isObject(entry)) bad(at, entry, "an object");
    const { offset, length, count } = entry as Json;
    if (entry.dtype !== dtype) bad(`${at}.dtype`, entry.dtype, `"${dtype}"`);
    if (!isWhole(count)) bad(`${at}.count`, count, "a whole number");
    if (!isWhole(offset)) bad(`${at}.offset`, offset, "a whole number");
    const o = offset as number, n = count as number;
    if (length !== n * ELEMENT_SIZE[dtype]) bad(`${at}.length`, length, `${n * ELEMENT_SIZE[dtype]} (count ${n} of ${dtype})`);
    if (o % 8 !== 0) fail(`corrupted (section ${name} at offset ${o}, which is not a multiple of 8)`);
    const end = o + (length as number);
    if (o < file.headerEnd || end > file.trailerAt) {
      fail(`corrupted (section ${name} at bytes ${o}-${end} is outside the file's data, bytes ${file.headerEnd}-${file.trailerAt})`);
    }
    found.set(name, { offset: o, count: n, end });
  }
  for (const name of REQUIRED) if (!found.has(name)) fail(`unreadable header (section ${name} missing)`);
  for (const group of TOGETHER) {
    const present = group.filter((name) => found.has(name));
    if (present.length > 0 && present.length < group.length) {
      fail(`unreadable header (section ${group.find((name) => !found.has(name))} missing beside ${present[0]})`);
    }
  }
  const ordered = [...found.entries()].sort((a, b) => a[1].offset - b[1].offset);
  for (let k = 1; k < ordered.length; k++) {
    const [before, b] = ordered[k - 1];
    const [name, s] = ordered[k];
    if (s.offset < b.end) fail(`corrupted (sections ${before} and ${name} overlap)`);
  }

  const objects = found.get("obj_address")!.count;
  const edges = found.get("edge_target")!.count;
  const roots = found.get("root_object")?.count ?? 0;
  const strings = Math.max(0, (found.get("str_offsets")?.count ?? 1) - 1);
  const expected: Record<CountOf, number | null> = {
    objects, "objects+1": objects + 1, edges, roots, "strings+1": strings + 1, any: null,
  };
  for (const [name, place] of found) {
    const want = expected[SECTIONS[name].count];
    if (want !== null && place.count !== want) {
      fail(`corrupted (section ${name} has ${place.count} entries, expected ${want})`);
    }
  }
  if (found.has("str_offsets") && found.get("str_offsets")!.count === 0) fail("corrupted (section str_offsets is empty)");
  const sections = new Map<string, SectionPlace>();
  for (const [name, { offset, count }] of found) sections.set(name, { offset, count });
  return { sections, objects, edges, roots, strings };
}

/** A census snapshot has no sections: `{}` or null. */
function noSections(raw: unknown, bad: Bad): Sections {
  if (raw !== null && raw !== undefined && !(isObject(raw) && Object.keys(raw).length === 0)) {
    bad("sections", raw, "{} or null in a census snapshot");
  }
  return { sections: new Map(), objects: 0, edges: 0, roots: 0, strings: 0 };
}

function checkCensus(raw: unknown, bad: Bad): CensusInfo {
  if (!isObject(raw)) return bad("census", raw, "an object in a census snapshot");
  // No prototype: a type named "constructor" or "__proto__" is a type like any other.
  const types: Record<string, [number, number]> = Object.create(null);
  if (!isObject(raw.types)) bad("census.types", raw.types, "an object");
  for (const [name, entry] of Object.entries(raw.types as Json)) {
    if (!Array.isArray(entry) || entry.length !== 2 || !isWhole(entry[0]) || !isWhole(entry[1])) {
      bad(`census.types[${JSON.stringify(name)}]`, entry, "[count, bytes]");
    }
    types[name] = [entry[0], entry[1]];
  }
  if (typeof raw.tracked_only !== "boolean") bad("census.tracked_only", raw.tracked_only, "true or false");
  if (!isWhole(raw.objects)) bad("census.objects", raw.objects, "a whole number");
  if (!isWhole(raw.bytes)) bad("census.bytes", raw.bytes, "a whole number");
  if (raw.failed_objects !== undefined && !isWhole(raw.failed_objects)) bad("census.failed_objects", raw.failed_objects, "a whole number");
  return { ...raw, tracked_only: raw.tracked_only as boolean, types, objects: raw.objects as number, bytes: raw.bytes as number };
}

function checkMeta(raw: unknown, want: Want, maybe: Maybe, list: List): SnapshotMeta {
  const meta = want(raw, isObject, "meta", "an object");
  const python = maybe(meta.python, isObject, "meta.python", "an object");
  if (python) {
    want(python.version, isString, "meta.python.version", "text");
    maybe(python.implementation, isString, "meta.python.implementation", "text");
  }
  const options = maybe(meta.options, isObject, "meta.options", "an object");
  if (options) {
    maybe(options.values, isString, "meta.options.values", "text");
    maybe(options.value_len, isWhole, "meta.options.value_len", "a whole number");
  }
  maybe(meta.argv, Array.isArray, "meta.argv", "a list")?.forEach((v, k) => want(v, isString, `meta.argv[${k}]`, "text"));
  maybe(meta.platform, orNull(isString), "meta.platform", "text or null");
  maybe(meta.hostname, orNull(isString), "meta.hostname", "text or null");
  maybe(meta.duration_s, isAmount, "meta.duration_s", "a number of seconds");
  maybe(meta.failed_objects, isWhole, "meta.failed_objects", "a whole number");
  if (meta.failed_kinds !== undefined) {
    list(meta.failed_kinds, "meta.failed_kinds", (v, at) => {
      const f = want(v, isObject, at, "an object");
      want(f.type, isString, `${at}.type`, "text");
      want(f.error, isString, `${at}.error`, "text");
      return want(f.count, isWhole, `${at}.count`, "a whole number");
    });
  }
  // `warnings` is what the meliae importer tells: a file does not get to print warnings of its own.
  const { warnings: _ignored, ...rest } = meta;
  return {
    ...rest,
    time: maybe(meta.time, isString, "meta.time", "text") ?? "",
    time_unix: maybe(meta.time_unix, isAmount, "meta.time_unix", "seconds since the epoch") ?? 0,
    pid: maybe(meta.pid, isWhole, "meta.pid", "a process id") ?? 0,
    process_start: maybe(meta.process_start, isAmount, "meta.process_start", "seconds since the epoch") ?? 0,
    sequence: maybe(meta.sequence, isWhole, "meta.sequence", "a whole number"),
    python: python as SnapshotMeta["python"],
  };
}

function checkMemory(raw: unknown, want: Want, maybe: Maybe): MemoryInfo {
  const memory = want(raw, isObject, "memory", "an object");
  const pymalloc = maybe(memory.pymalloc, orNull(isObject), "memory.pymalloc", "an object or null") ?? null;
  if (pymalloc) for (const [key, value] of Object.entries(pymalloc)) want(value, isAmount, `memory.pymalloc.${key}`, "a number");
  const tracemalloc = maybe(memory.tracemalloc, orNull(isObject), "memory.tracemalloc", "an object or null") ?? null;
  if (tracemalloc) {
    want(tracemalloc.current, isAmount, "memory.tracemalloc.current", "a number of bytes");
    want(tracemalloc.peak, isAmount, "memory.tracemalloc.peak", "a number of bytes");
    maybe(tracemalloc.overhead, isAmount, "memory.tracemalloc.overhead", "a number of bytes");
  }
  maybe(memory.source, orNull(isString), "memory.source", "text or null");
  maybe(memory.gc, isObject, "memory.gc", "an object");
  return {
    ...memory,
    rss: maybe(memory.rss, orNull(isAmount), "memory.rss", "a number of bytes or null") ?? null,
    rss_peak: maybe(memory.rss_peak, orNull(isAmount), "memory.rss_peak", "a number of bytes or null") ?? null,
    pymalloc: pymalloc as MemoryInfo["pymalloc"],
    tracemalloc: tracemalloc as MemoryInfo["tracemalloc"],
  };
}
