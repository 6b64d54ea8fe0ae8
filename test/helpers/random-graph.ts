// Random heap graphs for the graph-engine tests (small, varied shapes) and for quick timing runs (large).
import { makeSnapshot, type EdgeSpec, type SnapshotSpec } from "./make-snapshot.js";
import type { Snapshot } from "../../src/engine/snapshot.js";

/** Small fast seeded PRNG (mulberry32), so failures reproduce from the seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const TYPE_NAMES = ["builtins.dict", "builtins.list", "app.Node", "builtins.str"];

/**
 * A small graph of a random shape: uniform random edges, with sometimes a chain, a big cycle, self-loops,
 * several or duplicate roots, no roots at all, and islands that no root reaches (some cyclic).
 */
export function randomSpec(rand: () => number, maxNodes = 40): SnapshotSpec {
  const int = (k: number): number => Math.floor(rand() * k);
  const n = 1 + int(maxNodes);
  const objects = Array.from({ length: n }, () => ({ type: int(TYPE_NAMES.length), size: 1 + int(100) }));
  const edges: EdgeSpec[] = [];
  const density = rand() * 3;
  const m = Math.floor(n * density);
  // An island region at the end of the index range receives no edges from outside it.
  const islandFrom = rand() < 0.3 ? int(n) : n;
  for (let k = 0; k < m; k++) {
    const from = int(n);
    const to = from >= islandFrom ? islandFrom + int(n - islandFrom) : int(n);
    edges.push([from, to]);
  }
  if (rand() < 0.3) for (let i = 0; i + 1 < islandFrom; i++) edges.push([i, i + 1]); // chain
  if (rand() < 0.2 && islandFrom > 1) edges.push([islandFrom - 1, 0]); // close it into one big cycle
  if (rand() < 0.3) for (let k = 0; k < 3; k++) {
    const i = int(n);
    edges.push([i, i]); // self-loop
  }
  const roots: number[] = [];
  const rootCount = rand() < 0.1 ? 0 : 1 + int(3);
  for (let k = 0; k < rootCount && islandFrom > 0; k++) roots.push(int(islandFrom));
  if (roots.length > 0 && rand() < 0.2) roots.push(roots[0]); // one object that is a root twice
  return { types: TYPE_NAMES, objects, edges, roots };
}

export function randomSnapshot(rand: () => number, maxNodes = 40): Snapshot {
  return makeSnapshot(randomSpec(rand, maxNodes));
}

/**
 * A large heap-like graph straight in typed arrays: a random tree from object 0 (every object reachable
 * except the last 1%), the remaining edges random, half of them to nearby objects as allocation order gives.
 */
export function bigRandomSnapshot(n: number, m: number, seed = 1): Snapshot {
  const rand = seededRandom(seed);
  const source = new Uint32Array(m);
  const target = new Uint32Array(m);
  const reachable = n - Math.floor(n / 100);
  let k = 0;
  for (let i = 1; i < reachable && k < m; i++, k++) {
    source[k] = Math.floor(rand() * i);
    target[k] = i;
  }
  for (; k < m; k++) {
    const s = Math.floor(rand() * n);
    source[k] = s;
    target[k] = rand() < 0.5 ? Math.min(n - 1, s + 1 + Math.floor(rand() * 64)) : Math.floor(rand() * n);
  }
  const edgeStart = new Uint32Array(n + 1);
  for (let e = 0; e < m; e++) edgeStart[source[e] + 1]++;
  for (let i = 0; i < n; i++) edgeStart[i + 1] += edgeStart[i];
  const fill = edgeStart.slice(0, n);
  const edgeTarget = new Uint32Array(m);
  for (let e = 0; e < m; e++) edgeTarget[fill[source[e]]++] = target[e];
  // Borrow the string table (root label "sys.modules['big']" is string 0) and metadata from a tiny snapshot.
  const base = makeSnapshot({ types: TYPE_NAMES, objects: [{ type: 0 }], roots: [{ object: 0, label: "sys.modules['big']" }] });
  const rootObject = Uint32Array.from({ length: 1000 }, (_, i) => (i === 0 ? 0 : Math.floor(rand() * reachable)));
  return {
    ...base,
    objectCount: n,
    edgeCount: m,
    address: Float64Array.from({ length: n }, (_, i) => 0x7f0000000000 + 16 * i),
    type: Uint32Array.from({ length: n }, () => Math.floor(rand() * TYPE_NAMES.length)),
    size: Float64Array.from({ length: n }, () => 16 + Math.floor(rand() * 100)),
    length: new Uint32Array(n),
    flags: new Uint8Array(n),
    name: new Uint32Array(n).fill(0xffffffff),
    edgeStart,
    edgeTarget,
    edgeKind: new Uint8Array(m),
    edgeLabel: new Uint32Array(m),
    rootObject,
    rootKind: new Uint8Array(rootObject.length),
    rootLabel: new Uint32Array(rootObject.length),
  };
}
