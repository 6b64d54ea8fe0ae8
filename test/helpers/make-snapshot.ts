// Builds a Snapshot in memory from a compact description, for tests of the graph engine and path rendering.
import { EDGE_INDEX, FLAG_TRACKED, NONE, ROOT_MODULE, type Snapshot, type StringTable } from "../../src/engine/snapshot.js";

export interface ObjectSpec {
  type: number;
  size?: number;
  address?: number;
  name?: string;
  flags?: number;
}

/** [from, to] (suffix edge with an empty label), or [from, to, kind, label] (string for kinds 0 and 2, number for 1). */
export type EdgeSpec = [number, number] | [number, number, number, string | number];

export interface RootSpec {
  object: number;
  kind?: number;
  label?: string;
}

export interface SnapshotSpec {
  types: string[];
  objects: ObjectSpec[];
  edges?: EdgeSpec[];
  roots?: (number | RootSpec)[];
}

class Strings implements StringTable {
  private readonly list: string[] = [];
  private readonly ids = new Map<string, number>();
  get count(): number {
    return this.list.length;
  }
  get(index: number): string {
    if (index >= this.list.length) throw new RangeError(`string ${index} out of range`);
    return this.list[index];
  }
  intern(s: string): number {
    let id = this.ids.get(s);
    if (id === undefined) {
      id = this.list.length;
      this.list.push(s);
      this.ids.set(s, id);
    }
    return id;
  }
}

/** Objects get addresses 0x1000 + 16 * index and size 16 unless given; edges keep their order per source. */
export function makeSnapshot(spec: SnapshotSpec): Snapshot {
  const strings = new Strings();
  const n = spec.objects.length;
  const edges = (spec.edges ?? []).map((e, order) => ({ e, order }));
  edges.sort((a, b) => a.e[0] - b.e[0] || a.order - b.order);
  const m = edges.length;
  const edgeStart = new Uint32Array(n + 1);
  const edgeTarget = new Uint32Array(m);
  const edgeKind = new Uint8Array(m);
  const edgeLabel = new Uint32Array(m);
  edges.forEach(({ e }, k) => {
    const [from, to] = e;
    if (from >= n || to >= n) throw new RangeError(`edge ${from} -> ${to} out of range`);
    edgeStart[from + 1]++;
    edgeTarget[k] = to;
    const kind = e.length === 4 ? e[2] : 0;
    const label = e.length === 4 ? e[3] : "";
    edgeKind[k] = kind;
    edgeLabel[k] = kind === EDGE_INDEX ? Number(label) : strings.intern(String(label));
  });
  for (let i = 0; i < n; i++) edgeStart[i + 1] += edgeStart[i];

  const roots = (spec.roots ?? []).map((r) => (typeof r === "number" ? { object: r } : r));
  return {
    source: null,
    format: "lbsnap",
    kind: "full",
    meta: { time: "2024-01-01T00:00:00Z", time_unix: 1704067200, pid: 1, process_start: 1704067000 },
    memory: { rss: null, rss_peak: null, pymalloc: null, tracemalloc: null },
    types: spec.types,
    objectCount: n,
    edgeCount: m,
    address: Float64Array.from(spec.objects, (o, i) => o.address ?? 0x1000 + 16 * i),
    type: Uint32Array.from(spec.objects, (o) => o.type),
    size: Float64Array.from(spec.objects, (o) => o.size ?? 16),
    length: new Uint32Array(n).fill(NONE),
    flags: Uint8Array.from(spec.objects, (o) => o.flags ?? FLAG_TRACKED),
    name: Uint32Array.from(spec.objects, (o) => (o.name === undefined ? NONE : strings.intern(o.name))),
    alloc: null,
    edgeStart,
    edgeTarget,
    edgeKind,
    edgeLabel,
    rootObject: Uint32Array.from(roots, (r) => r.object),
    rootKind: Uint8Array.from(roots, (r) => r.kind ?? ROOT_MODULE),
    rootLabel: Uint32Array.from(roots, (r, i) => strings.intern(r.label ?? `sys.modules['m${i}']`)),
    strings,
    threads: [],
    lruCaches: [],
    bounds: new Map(),
    allocSites: null,
    census: null,
  };
}
