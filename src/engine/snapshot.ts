// The in-memory shape of one loaded snapshot: typed-array columns, no JS object per heap object.
// Column meanings follow docs/snapshot-format.md.

/** Sentinel for "no string" / "no site" / "no length" in u32 columns. */
export const NONE = 0xffffffff;

export const FLAG_TRACKED = 1;
export const FLAG_TRUNCATED = 2;
export const FLAG_VALUE = 4;
/** The agent failed to read this object (size 0; length or name may be missing): see docs/snapshot-format.md. */
export const FLAG_INCOMPLETE = 8;

export const EDGE_SUFFIX = 0;
export const EDGE_INDEX = 1;
export const EDGE_OPAQUE = 2;

export const ROOT_MODULE = 0;
export const ROOT_THREAD = 1;
export const ROOT_GARBAGE = 2;
export const ROOT_LAST_EXC = 3;
export const ROOT_BUILTINS = 4;
export const ROOT_OTHER = 5;
/** Objects no root reaches; the graph engine adds them as roots of their own so nothing is dropped. */
export const ROOT_UNREACHABLE = 6;

export interface SnapshotMeta {
  time: string;
  time_unix: number;
  pid: number;
  process_start: number;
  sequence?: number;
  argv?: string[];
  python?: { version: string; implementation: string; [k: string]: unknown };
  platform?: string | null;
  hostname?: string | null;
  options?: Record<string, unknown>;
  duration_s?: number;
  [k: string]: unknown;
}

export interface PymallocStats {
  arenas_allocated_total?: number;
  arenas_in_use?: number;
  arena_bytes?: number;
  bytes_in_allocated_blocks?: number;
  [k: string]: number | undefined;
}

export interface MemoryInfo {
  rss: number | null;
  rss_peak: number | null;
  source?: string;
  pymalloc: PymallocStats | null;
  gc?: { enabled: boolean; count: number[]; stats: unknown[]; garbage: number };
  /** Traced bytes now and at peak, and tracemalloc's own bookkeeping (`overhead`, from agents that record it). */
  tracemalloc: { current: number; peak: number; overhead?: number } | null;
}

export interface ThreadInfo {
  ident: number;
  /** null for a thread unknown to `threading`, and for every thread with `values: "none"`. */
  name: string | null;
  daemon: boolean | null;
  frame: number | null;
}

export interface LruCacheInfo {
  object: number;
  /** The wrapped function's qualified name; null when it is not a plain function. */
  name: string | null;
  hits: number;
  misses: number;
  maxsize: number | null;
  currsize: number;
  /** null where the agent could not tell (Python 3.8). */
  typed: boolean | null;
}

export interface AllocFrame {
  file: string;
  line: number;
}

export interface CensusInfo {
  tracked_only: boolean;
  types: Record<string, [number, number]>;
  objects: number;
  bytes: number;
}

/** Interned strings, decoded lazily from one UTF-8 buffer. */
export interface StringTable {
  readonly count: number;
  get(index: number): string;
}

export interface Snapshot {
  /** File the snapshot came from, or null when loaded from bytes. */
  source: string | null;
  /** Format the file was read from. */
  format: "lbsnap" | "meliae";
  kind: "full" | "census";
  meta: SnapshotMeta;
  memory: MemoryInfo;
  /** Type names; `type[i]` indexes this list. */
  types: string[];
  objectCount: number;
  edgeCount: number;

  address: Float64Array;
  type: Uint32Array;
  size: Float64Array;
  length: Uint32Array;
  flags: Uint8Array;
  name: Uint32Array;
  /** Index into allocSites per object, or null when tracemalloc was off. */
  alloc: Uint32Array | null;

  edgeStart: Uint32Array;
  edgeTarget: Uint32Array;
  edgeKind: Uint8Array;
  edgeLabel: Uint32Array;

  rootObject: Uint32Array;
  rootKind: Uint8Array;
  rootLabel: Uint32Array;

  strings: StringTable;
  threads: ThreadInfo[];
  lruCaches: LruCacheInfo[];
  /**
   * Bounded containers: object index -> the most items the container can hold (a deque's maxlen, a
   * queue.Queue's maxsize on the Queue and on its inner deque or list, an lru_cache's maxsize on its storage
   * dict, the size limit of re's module caches). Containers absent here are unbounded or of unknown bound.
   * Empty for files without the header's `bounds` and for meliae dumps.
   */
  bounds: Map<number, number>;
  allocSites: AllocFrame[][] | null;
  census: CensusInfo | null;
}
