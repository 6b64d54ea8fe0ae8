// How much memory loading and analysing a snapshot needs, estimated from its counts before anything large is
// allocated, and checked against what the process may still use: its address-space and data limits (ulimit -v,
// prlimit --as) and the JavaScript heap's limit (--max-old-space-size). Running out of either kills Node without a
// message (V8 cannot recover from a failed heap reservation), so the check comes first. Figures:
// docs/performance.md.
import { readFileSync } from "node:fs";
import { getHeapStatistics } from "node:v8";
import { SnapshotError } from "../common/errors.js";
import { formatBytes } from "../common/units.js";

const MiB = 1024 * 1024;

/** Bytes per object and per reference the analysis allocates (dominators, retained sizes, reverse graph, paths). */
export const ANALYSIS_BYTES_PER_OBJECT = 64;
export const ANALYSIS_BYTES_PER_REFERENCE = 16;
/** Working space of an analysis of any size (tables, the JavaScript heap's growth). */
const ANALYSIS_FIXED = 64 * MiB;
/** Address space kept free for what grows beside the estimate (the JavaScript heap, thread stacks). */
const RESERVED_HEADROOM = 64 * MiB;
/** Address space a helper thread reserves when it starts (its own V8 isolate). */
const HELPER_THREAD_ADDRESS_SPACE = 1024 * MiB;
/** JavaScript heap a parsed JSON header takes, per byte of its text (objects, arrays, strings). */
const HEADER_HEAP_PER_BYTE = 8;
/**
 * Of V8's heap_size_limit, what the young generation takes (three 16 MiB semi-spaces, whatever the old space's
 * size): the rest is --max-old-space-size.
 */
const YOUNG_GENERATION = 48 * MiB;

/** What a load or analysis is expected to need: typed arrays outside the JavaScript heap, and heap for objects. */
export interface MemoryNeed {
  /** Bytes of typed arrays and buffers (outside the JavaScript heap). */
  buffers: number;
  /** Bytes of JavaScript heap (parsed headers, strings). */
  heap: number;
}

/** What is being done, for messages: "load", "import" (a meliae dump), "analyse". */
export type MemoryAction = "load" | "import" | "analyse" | "load and analyse";

/** The last need checked, to name in the message should an allocation fail anyway. */
let lastChecked: { bytes: number; source: string; action: MemoryAction } | null = null;

/** "to analyse x.lbsnap, which needs about 1.2 GiB", for a message about an allocation that failed; null before any check. */
export function lastMemoryNeed(): string | null {
  return lastChecked && `to ${lastChecked.action} ${lastChecked.source}, which needs about ${formatBytes(lastChecked.bytes)}`;
}

/** Memory the analysis of `objects` objects and `references` references allocates. */
export function analysisNeed(objects: number, references: number): MemoryNeed {
  return { buffers: ANALYSIS_FIXED + ANALYSIS_BYTES_PER_OBJECT * objects + ANALYSIS_BYTES_PER_REFERENCE * references, heap: 0 };
}

/**
 * Memory importing a meliae dump of `fileBytes` takes, before its counts are known: the columns and references
 * (at most about 1.5 bytes per byte of text), and the JavaScript heap of its string table and of a line at a time.
 */
export function meliaeImportNeed(fileBytes: number): MemoryNeed {
  return { buffers: 1.5 * fileBytes, heap: 8 * MiB + fileBytes / 2 };
}

/** Memory parsing an lbsnap file's JSON header of `headerBytes` takes. */
export function headerNeed(headerBytes: number): MemoryNeed {
  return { buffers: 0, heap: HEADER_HEAP_PER_BYTE * headerBytes };
}

/** Memory loading an lbsnap file takes: the file in one buffer, columns it lacks, and its parsed header. */
export function lbsnapLoadNeed(fileBytes: number, objects: number, headerBytes: number): MemoryNeed {
  return together({ buffers: fileBytes + 9 * objects, heap: 0 }, headerNeed(headerBytes));
}

/** Two needs at once (a load, and the analysis that follows it). */
export function together(a: MemoryNeed, b: MemoryNeed): MemoryNeed {
  return { buffers: a.buffers + b.buffers, heap: a.heap + b.heap };
}

interface ProcessRoom {
  /** Bytes of address space left under the soft RLIMIT_AS / RLIMIT_DATA, or Infinity. */
  addressSpace: number;
  /** Which limit that is, for the message. */
  limit: string;
  /** Bytes the JavaScript heap may still grow by. */
  heap: number;
}

/** The soft limit of a /proc/self/limits line ("Max address space  2147483648  ...  bytes"), or Infinity. */
function softLimit(limits: string, name: string): number {
  const match = new RegExp(`^${name}\\s+(\\d+|unlimited)`, "m").exec(limits);
  return match && match[1] !== "unlimited" ? Number(match[1]) : Infinity;
}

/** A /proc/self/status figure in bytes ("VmSize:  728236 kB"), or 0. */
function statusBytes(status: string, name: string): number {
  const match = new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status);
  return match ? Number(match[1]) * 1024 : 0;
}

function readProc(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return ""; // not Linux: no limits known
  }
}

/** The soft address-space and data limits, read once: a process's limits seldom change while it runs. */
let limits: { addressLimit: number; dataLimit: number } | null = null;

/** How much more this process may allocate now. */
function processRoom(): ProcessRoom {
  const heapStats = getHeapStatistics();
  const heap = heapStats.heap_size_limit - YOUNG_GENERATION - heapStats.used_heap_size;
  if (!limits) {
    const text = readProc("/proc/self/limits");
    limits = { addressLimit: softLimit(text, "Max address space"), dataLimit: softLimit(text, "Max data size") };
  }
  const { addressLimit, dataLimit } = limits;
  if (addressLimit === Infinity && dataLimit === Infinity) return { addressSpace: Infinity, limit: "", heap };
  const status = readProc("/proc/self/status");
  const addressLeft = addressLimit - statusBytes(status, "VmSize");
  const dataLeft = dataLimit - statusBytes(status, "VmData");
  return addressLeft <= dataLeft
    ? { addressSpace: addressLeft, limit: `the address-space limit (ulimit -v) of ${formatBytes(addressLimit)}`, heap }
    : { addressSpace: dataLeft, limit: `the data-size limit (ulimit -d) of ${formatBytes(dataLimit)}`, heap };
}

/**
 * Throws a one-line SnapshotError when `need` does not fit in what the process may still allocate. Remembers the
 * need, so that an allocation failing anyway can be told in its terms.
 */
export function ensureMemory(need: MemoryNeed, source: string, action: MemoryAction): void {
  const total = need.buffers + need.heap;
  lastChecked = { bytes: total, source, action };
  const room = processRoom();
  const notEnough = `${source}: not enough memory to ${action} it:`;
  if (total + RESERVED_HEADROOM > room.addressSpace) {
    throw new SnapshotError(`${notEnough} it needs about ${formatBytes(total)}, and ${room.limit} leaves ` +
      `${formatBytes(Math.max(0, room.addressSpace - RESERVED_HEADROOM))}`);
  }
  if (need.heap > room.heap) {
    throw new SnapshotError(`${notEnough} it needs about ${formatBytes(need.heap)} of JavaScript heap, and the heap's ` +
      `limit (node --max-old-space-size) leaves ${formatBytes(Math.max(0, room.heap))}`);
  }
}

/** Whether a helper thread can start beside an analysis needing `need` without exhausting the address space. */
export function roomForHelperThread(need: MemoryNeed): boolean {
  return processRoom().addressSpace >= need.buffers + need.heap + RESERVED_HEADROOM + HELPER_THREAD_ADDRESS_SPACE;
}
