// The graph engine against naive reference implementations on thousands of random graphs, plus shapes
// that break recursive implementations (100k-long chains and cycles) and hand-built cases.
import { test } from "node:test";
import assert from "node:assert/strict";
import { analyze, cycles, PARALLEL_FROM, retainedByType, type HeapGraph } from "../src/engine/graph.js";
import { stronglyConnected } from "../src/engine/scc.js";
import { dominatorTree } from "../src/engine/dominators.js";
import { gatherPredecessors, predecessorStarts } from "../src/engine/edge-passes.js";
import { GraphHelper } from "../src/engine/graph-helper.js";
import { NONE, type Snapshot } from "../src/engine/snapshot.js";
import { makeSnapshot, type EdgeSpec } from "./helpers/make-snapshot.js";
import { bigRandomSnapshot, randomSnapshot, seededRandom } from "./helpers/random-graph.js";

/** Everything the engine computes, recomputed the slow obvious way (quadratic and worse; small graphs only). */
function naive(snap: Snapshot) {
  const n = snap.objectCount;
  const succ: number[][] = Array.from({ length: n }, (_, i) => {
    const out: number[] = [];
    for (let k = snap.edgeStart[i]; k < snap.edgeStart[i + 1]; k++) out.push(snap.edgeTarget[k]);
    return out;
  });
  const reach = (sources: number[], removed = -1): boolean[] => {
    const seen = new Array<boolean>(n).fill(false);
    const todo = sources.filter((s) => s !== removed);
    for (const s of todo) seen[s] = true;
    while (todo.length > 0) {
      const v = todo.pop()!;
      for (const w of succ[v]) if (w !== removed && !seen[w]) {
        seen[w] = true;
        todo.push(w);
      }
    }
    return seen;
  };
  const reachFrom = Array.from({ length: n }, (_, v) => reach([v]));
  const mutual = (a: number, b: number): boolean => reachFrom[a][b] && reachFrom[b][a];
  const roots = [...snap.rootObject];
  const fromRoots = reach(roots);
  const unreachable = [...Array(n).keys()].filter((v) => !fromRoots[v]);
  // An unreachable object roots its part when nothing outside its own cycle reaches it; one per cycle (lowest index).
  const extraRoots = unreachable.filter(
    (u) =>
      !unreachable.some((v) => reachFrom[v][u] && !mutual(u, v)) && !unreachable.some((w) => w < u && mutual(u, w)),
  );
  const allRoots = [...roots, ...extraRoots];
  // dominates[v][w]: every path from the virtual root to w passes through v (v !== w).
  const dominates = Array.from({ length: n }, (_, v) => {
    const without = reach(allRoots, v);
    return without.map((r, w) => w !== v && !r);
  });
  const dominatorCount = (w: number): number => dominates.filter((row) => row[w]).length;
  const idom = [...Array(n).keys()].map((w) => {
    let best = n;
    let bestDepth = -1;
    for (let v = 0; v < n; v++) if (dominates[v][w] && dominatorCount(v) > bestDepth) {
      best = v;
      bestDepth = dominatorCount(v);
    }
    return best;
  });
  const retained = [...Array(n).keys()].map((v) =>
    dominates[v].reduce((sum, d, w) => sum + (d ? snap.size[w] : 0), snap.size[v]),
  );
  // Breadth-first from the real roots, then from the extra roots over what is left.
  const distance = new Array<number>(n).fill(NONE);
  for (const starts of [roots, extraRoots]) {
    let frontier = [...new Set(starts)].filter((r) => distance[r] === NONE);
    for (const r of frontier) distance[r] = 0;
    for (let d = 1; frontier.length > 0; d++) {
      const nextFrontier: number[] = [];
      for (const v of frontier) for (const w of succ[v]) if (distance[w] === NONE) {
        distance[w] = d;
        nextFrontier.push(w);
      }
      frontier = nextFrontier;
    }
  }
  const typeRetained = new Map<string, number>();
  for (let w = 0; w < n; w++) {
    const type = snap.types[snap.type[w]];
    const nested = [...Array(n).keys()].some((v) => dominates[v][w] && snap.type[v] === snap.type[w]);
    if (!nested) typeRetained.set(type, (typeRetained.get(type) ?? 0) + retained[w]);
  }
  return { succ, mutual, unreachable, extraRoots, idom, retained, distance, typeRetained, dominates };
}

function checkAgainstNaive(snap: Snapshot, g: HeapGraph, label: string): void {
  const n = snap.objectCount;
  const ref = naive(snap);
  assert.deepEqual([...g.unreachable], ref.unreachable, `${label}: unreachable`);
  assert.deepEqual([...g.extraRoots], ref.extraRoots, `${label}: extra roots`);
  assert.deepEqual([...g.idom], ref.idom, `${label}: idom`);
  assert.deepEqual([...g.retained], ref.retained, `${label}: retained`);
  assert.deepEqual([...g.distance], ref.distance, `${label}: distance`);
  for (let w = 0; w < n; w++) {
    const e = g.bfsEdge[w];
    if (ref.distance[w] === 0) {
      assert.equal(e, NONE, `${label}: root ${w} has no BFS edge`);
      continue;
    }
    assert.equal(snap.edgeTarget[e], w, `${label}: BFS edge of ${w} points at it`);
    let from = 0;
    while (snap.edgeStart[from + 1] <= e) from++;
    assert.equal(g.distance[from], g.distance[w] - 1, `${label}: BFS edge of ${w} comes from one step closer`);
  }
  const components = new Set<number>();
  for (let a = 0; a < n; a++) {
    components.add(g.scc[a]);
    let partners = 0;
    for (let b = 0; b < n; b++) {
      assert.equal(g.scc[a] === g.scc[b], a === b || ref.mutual(a, b), `${label}: scc of ${a} and ${b}`);
      if (b !== a && ref.mutual(a, b)) partners++;
    }
    assert.equal(g.cyclic[a], partners > 0 ? 1 : 0, `${label}: ${a} is in a component of two or more`);
  }
  const selfLoops = [];
  for (let a = 0; a < n; a++) {
    if (snap.edgeTarget.subarray(snap.edgeStart[a], snap.edgeStart[a + 1]).includes(a)) selfLoops.push(a);
  }
  assert.deepEqual([...g.selfLoops], selfLoops, `${label}: self-loops`);
  assert.equal(g.sccCount, components.size, `${label}: scc count`);
  // The standalone pass (used for filtered graphs) finds the same partition.
  const alone = stronglyConnected(n, snap.edgeStart, snap.edgeTarget);
  assert.equal(alone.count, g.sccCount, `${label}: standalone scc count`);
  for (let a = 0; a < n; a++) {
    for (let b = 0; b < n; b++) assert.equal(alone.scc[a] === alone.scc[b], g.scc[a] === g.scc[b], `${label}: standalone scc`);
  }
  for (const row of retainedByType(g)) {
    assert.equal(row.retained, ref.typeRetained.get(row.type), `${label}: retained of type ${row.type}`);
  }

  // Cycles: components of 2+ members or with a self-loop; retained = everything dominated by some member.
  const expected: { members: number[]; retained: number }[] = [];
  const placed = new Array<boolean>(n).fill(false);
  for (let a = 0; a < n; a++) {
    if (placed[a]) continue;
    const members = [...Array(n).keys()].filter((b) => b === a || ref.mutual(a, b));
    for (const b of members) placed[b] = true;
    if (members.length === 1 && !ref.succ[a].includes(a)) continue;
    let retained = 0;
    for (let w = 0; w < n; w++) {
      if (members.includes(w) || members.some((v) => ref.dominates[v][w])) retained += snap.size[w];
    }
    expected.push({ members, retained });
  }
  const found = cycles(g, { top: Infinity });
  assert.equal(found.length, expected.length, `${label}: number of cycles`);
  for (let i = 1; i < found.length; i++) assert.ok(found[i - 1].retained >= found[i].retained, `${label}: cycles sorted`);
  for (const cycle of found) {
    const match = expected.find((c) => c.members.includes(cycle.sample[0]));
    assert.ok(match, `${label}: cycle ${cycle.id} expected`);
    assert.equal(cycle.members, match.members.length, `${label}: cycle members`);
    assert.equal(cycle.retained, match.retained, `${label}: cycle retained`);
    assert.equal(cycle.shallow, match.members.reduce((s, m) => s + snap.size[m], 0), `${label}: cycle shallow`);
    assert.equal(g.distance[cycle.entry], Math.min(...match.members.map((m) => ref.distance[m])), `${label}: cycle entry`);
    assert.equal(cycle.types.reduce((s, t) => s + t.count, 0), cycle.members, `${label}: cycle types`);
  }
}

test("dominators, retained sizes, distances, SCCs and cycles match naive references on 3000 random graphs", () => {
  for (let seed = 1; seed <= 3000; seed++) {
    const snap = randomSnapshot(seededRandom(seed));
    checkAgainstNaive(snap, analyze(snap), `seed ${seed}`);
  }
});

test("larger random graphs (up to 150 objects) match the naive references", () => {
  for (let seed = 10001; seed <= 10060; seed++) {
    const snap = randomSnapshot(seededRandom(seed), 150);
    checkAgainstNaive(snap, analyze(snap), `seed ${seed}`);
  }
});

test("Lengauer–Tarjan's bucket pass (Semi-NCA's fallback) finds the same dominators on 1500 random graphs", () => {
  for (let seed = 20001; seed <= 21500; seed++) {
    const snap = randomSnapshot(seededRandom(seed), seed % 3 === 0 ? 150 : 40);
    const g = analyze(snap);
    const input = {
      objectCount: snap.objectCount, edgeStart: snap.edgeStart, edgeTarget: snap.edgeTarget,
      predecessors: (dfnOf: Uint32Array) => {
        const out = { predStart: new Uint32Array(snap.objectCount + 3), preds: new Uint32Array(snap.edgeCount) };
        predecessorStarts(snap.objectCount, g.revStart, dfnOf, out.predStart);
        gatherPredecessors(0, snap.objectCount, g, dfnOf, out);
        return out;
      },
    };
    // A step budget of 0 makes Semi-NCA give up at its first climbing step.
    const components = { scc: new Uint32Array(snap.objectCount), cyclic: new Uint8Array(snap.objectCount) };
    const { idom } = dominatorTree(input, snap.rootObject, () => g.extraRoots, components, { stepBudget: 0 });
    assert.deepEqual([...idom], [...g.idom], `seed ${seed}`);
  }
});

test("a long dominator chain with many shared objects below it (Semi-NCA's quadratic case) gets the right dominators", () => {
  // Root 0 -> chain 1 .. k (each link dominates the next), the last link -> list L -> m items; root 0 also
  // holds Q -> every item, and 0's edge to the chain comes first, so the DFS reaches the items through L.
  const k = 3000;
  const m = 1000;
  const L = k + 1;
  const Q = k + 2;
  const item = (i: number) => k + 3 + i;
  const edges: EdgeSpec[] = [[0, 1], [0, Q]];
  for (let i = 1; i < k; i++) edges.push([i, i + 1]);
  edges.push([k, L]);
  for (let i = 0; i < m; i++) edges.push([L, item(i)], [Q, item(i)]);
  const n = k + 3 + m;
  const snap = makeSnapshot({ types: ["builtins.list"], objects: Array.from({ length: n }, () => ({ type: 0, size: 1 })), edges, roots: [0] });
  const g = analyze(snap);
  const expected = [n, ...Array.from({ length: k }, (_, i) => i), k, 0, ...Array.from({ length: m }, () => 0)];
  assert.deepEqual([...g.idom], expected);
  assert.equal(g.retained[0], n);
  assert.equal(g.retained[1], k + 1);
});

/** The snapshot with its edge, size and type columns in shared memory, as loadSnapshot() gives them from a file. */
function inSharedMemory(snap: Snapshot): Snapshot {
  const share = <T extends Uint32Array | Float64Array>(column: T): T => {
    const copy = new (column.constructor as new (buffer: SharedArrayBuffer) => T)(new SharedArrayBuffer(column.byteLength));
    copy.set(column);
    return copy;
  };
  return { ...snap, edgeStart: share(snap.edgeStart), edgeTarget: share(snap.edgeTarget), size: share(snap.size), type: share(snap.type) };
}

test("with the helper thread (large heaps) the analysis is the same as on one thread", () => {
  const inMemory = bigRandomSnapshot(PARALLEL_FROM + 50_000, 3 * PARALLEL_FROM);
  const alone = analyze(inMemory, { threads: false });
  // Count what the helper delivered: the reverse graph, the search's tree, and its part of each shared loop
  // (what the calling thread did not do itself).
  const { reverse, share, breadthFirst } = GraphHelper.prototype;
  const delivered = new Set<string>();
  GraphHelper.prototype.reverse = function () {
    const result = reverse.call(this);
    if (result !== null) delivered.add("reverse");
    return result;
  };
  GraphHelper.prototype.share = function (loop, total, body) {
    let own = 0;
    share.call(this, loop, total, (from, to) => {
      own += to - from;
      body(from, to);
    });
    if (own < total) delivered.add(`loop ${loop.next}`);
  };
  GraphHelper.prototype.breadthFirst = function () {
    const result = breadthFirst.call(this);
    if (result !== null) delivered.add("search");
    return result;
  };
  try {
    // The edges are copied for the helper; in shared memory (a loaded file) the helper also reads the size and
    // type columns. A helper that has not started by the time its results are needed leaves the work to the
    // calling thread (on a busy machine it often does), so run until the helper has done each part at least once,
    // every run giving the same results.
    for (const [snap, parts] of [[inMemory, 3], [inSharedMemory(inMemory), 4]] as const) {
      delivered.clear();
      for (let run = 0; run < 12 && delivered.size < parts; run++) {
        const helped = analyze(snap, { threads: true });
        for (const key of ["revStart", "revSource", "revEdge", "unreachable", "extraRoots", "idom", "retained", "distance", "bfsEdge", "scc", "cyclic", "typeCount", "typeShallow", "typeRetained"] as const) {
          assert.deepEqual(helped[key], alone[key], key);
        }
        assert.deepEqual(cycles(helped), cycles(alone));
      }
      assert.equal(delivered.size, parts, `the helper thread did each of its ${parts} parts in 12 runs (did: ${[...delivered].join(", ")})`);
    }
  } finally {
    Object.assign(GraphHelper.prototype, { reverse, share, breadthFirst });
  }
});

test("a helper thread that fails mid-way leaves correct results: the calling thread redoes its part", () => {
  const snap = inSharedMemory(bigRandomSnapshot(PARALLEL_FROM + 50_000, 3 * PARALLEL_FROM, 7));
  const alone = analyze(snap, { threads: false });
  const { postWork, share } = GraphHelper.prototype;
  const own: number[] = [];
  // Work the helper cannot use: it fails at the first chunk it claims of the first shared loop.
  GraphHelper.prototype.postWork = function (work) {
    postWork.call(this, { ...work, dfnOf: null as unknown as Uint32Array });
  };
  GraphHelper.prototype.share = function (loop, total, body) {
    // A head start for the helper, so that it claims (and loses) a chunk before this thread takes them all.
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
    let done = 0;
    share.call(this, loop, total, (from, to) => {
      done += to - from;
      body(from, to);
    });
    own.push(done);
  };
  try {
    const helped = analyze(snap, { threads: true });
    for (const key of ["idom", "retained", "distance", "bfsEdge", "typeRetained"] as const) {
      assert.deepEqual(helped[key], alone[key], key);
    }
  } finally {
    Object.assign(GraphHelper.prototype, { postWork, share });
  }
  const n = snap.objectCount;
  assert.ok(own[0] > n, `the predecessors were gathered again in full (${own[0]} of ${n})`);
  assert.equal(own[1], n, "the columns by DFS number were read by the calling thread alone");
});

const chain = (n: number, closed: boolean) => {
  const edges: EdgeSpec[] = [];
  for (let i = 0; i + 1 < n; i++) edges.push([i, i + 1]);
  if (closed) edges.push([n - 1, 0]);
  return makeSnapshot({
    types: ["app.Node"],
    objects: Array.from({ length: n }, (_, i) => ({ type: 0, size: 1 + (i % 7) })),
    edges,
    roots: [0],
  });
};

test("a 100k-long chain: no stack overflow, each link dominates the rest", () => {
  const n = 100_000;
  const snap = chain(n, false);
  const g = analyze(snap);
  let below = 0;
  for (let i = n - 1; i >= 0; i--) {
    below += snap.size[i];
    assert.equal(g.retained[i], below);
    assert.equal(g.idom[i], i === 0 ? n : i - 1);
    assert.equal(g.distance[i], i);
  }
  assert.equal(g.sccCount, n);
  assert.equal(cycles(g).length, 0);
  // One type nested 100k deep: only the outermost instance counts.
  assert.deepEqual(retainedByType(g), [{ type: "app.Node", count: n, shallow: below, retained: below }]);
});

test("a 100k-member cycle is one component whose entry is the root", () => {
  const n = 100_000;
  const snap = chain(n, true);
  const g = analyze(snap);
  assert.equal(g.sccCount, 1);
  const [cycle, ...rest] = cycles(g);
  assert.equal(rest.length, 0);
  const total = snap.size.reduce((a, b) => a + b, 0);
  assert.deepEqual(
    { members: cycle.members, retained: cycle.retained, shallow: cycle.shallow, entry: cycle.entry, samples: cycle.sample.length },
    { members: n, retained: total, shallow: total, entry: 0, samples: 20 },
  );
  assert.deepEqual(cycle.types, [{ type: "app.Node", count: n }]);
});

test("a 100k-deep unreachable chain hangs below its head, which becomes the only extra root", () => {
  const n = 100_000;
  const edges: EdgeSpec[] = [];
  for (let i = 2; i + 1 < n; i++) edges.push([i + 1, i]); // n-1 -> n-2 -> ... -> 2, all unreachable
  const snap = makeSnapshot({
    types: ["builtins.list"],
    objects: Array.from({ length: n }, () => ({ type: 0 })),
    edges: [[0, 1], ...edges],
    roots: [0],
  });
  const g = analyze(snap);
  assert.equal(g.unreachable.length, n - 2);
  assert.deepEqual([...g.extraRoots], [n - 1]);
  assert.equal(g.idom[2], 3);
  assert.equal(g.idom[n - 1], n);
  assert.equal(g.retained[n - 1], 16 * (n - 2));
});

test("unreachable cycles: a cycle fed by an unreachable object is rooted at that object, a closed one at its lowest member", () => {
  // 0 root -> 1. Unreachable: 2 -> 3 <-> 4 (fed by 2), and 5 <-> 6 (closed), 7 alone.
  const snap = makeSnapshot({
    types: ["builtins.dict"],
    objects: Array.from({ length: 8 }, () => ({ type: 0, size: 10 })),
    edges: [[0, 1], [2, 3], [3, 4], [4, 3], [6, 5], [5, 6]],
    roots: [0],
  });
  const g = analyze(snap);
  assert.deepEqual([...g.unreachable], [2, 3, 4, 5, 6, 7]);
  assert.deepEqual([...g.extraRoots], [2, 5, 7]);
  assert.deepEqual([...g.idom], [8, 0, 8, 2, 3, 8, 5, 8]);
  assert.deepEqual([...g.retained], [20, 10, 30, 20, 10, 20, 10, 10]);
  assert.deepEqual([...g.distance], [0, 1, 0, 1, 2, 0, 1, 0]);
});

test("retainedByType counts only the outermost instance along each dominator chain", () => {
  // Node0 -> dict1 -> Node2 -> Node3 ; Node0 -> list4 -> str5. Node2 and Node3 are nested in Node0.
  // A second root Node6 shares str7 with list4, so str7 is dominated by neither.
  const snap = makeSnapshot({
    types: ["app.Node", "builtins.dict", "builtins.list", "builtins.str"],
    objects: [
      { type: 0, size: 100 }, { type: 1, size: 50 }, { type: 0, size: 40 }, { type: 0, size: 30 },
      { type: 2, size: 20 }, { type: 3, size: 5 }, { type: 0, size: 7 }, { type: 3, size: 3 },
    ],
    edges: [[0, 1], [1, 2], [2, 3], [0, 4], [4, 5], [4, 7], [6, 7]],
    roots: [0, 6],
  });
  const rows = retainedByType(analyze(snap));
  assert.deepEqual(rows, [
    { type: "app.Node", count: 4, shallow: 177, retained: 245 + 7 },
    { type: "builtins.dict", count: 1, shallow: 50, retained: 120 },
    { type: "builtins.list", count: 1, shallow: 20, retained: 25 },
    { type: "builtins.str", count: 2, shallow: 8, retained: 8 },
  ]);
});

test("self-loops make one-member cycles; minMembers and top filter them", () => {
  const snap = makeSnapshot({
    types: ["builtins.list", "builtins.dict"],
    objects: [{ type: 0, size: 5 }, { type: 1, size: 6 }, { type: 1, size: 7 }, { type: 0, size: 8 }],
    edges: [[0, 0], [0, 1], [1, 2], [2, 1], [2, 3]],
    roots: [0],
  });
  const g = analyze(snap);
  assert.deepEqual(cycles(g).map((c) => [c.members, c.retained, c.entry]), [[1, 26, 0], [2, 21, 1]]);
  assert.deepEqual(cycles(g, { minMembers: 2 }).map((c) => c.members), [2]);
  assert.deepEqual(cycles(g, { top: 1 }).map((c) => c.members), [1]);
});

test("an empty snapshot analyses to empty arrays", () => {
  const g = analyze(makeSnapshot({ types: [], objects: [] }));
  assert.equal(g.idom.length, 0);
  assert.equal(g.sccCount, 0);
  assert.deepEqual(cycles(g), []);
  assert.deepEqual(retainedByType(g), []);
});
