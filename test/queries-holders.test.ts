// Query helpers about what keeps objects alive, on a real planted capture: caches, survivors, cycles, bidirectional
// links, obscure holders and navigation.
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import type { Series } from "../src/engine/series.js";
import type { Snapshot } from "../src/engine/snapshot.js";
import { caches } from "../src/queries/caches.js";
import { bidirectionalLinks, cycles } from "../src/queries/cycles.js";
import { holders } from "../src/queries/holders.js";
import { selectObject } from "../src/queries/input.js";
import { dominated, pathsToRoot, referents, referrers } from "../src/queries/navigate.js";
import { survivors } from "../src/queries/survivors.js";
import { findObject } from "../src/engine/paths.js";
import { plantedSeries, type Planted } from "./helpers/capture.js";
import { agentAvailable } from "./helpers/python.js";

type Row = Record<string, unknown>;
const MAIN = "sys.modules['__main__']";

describe("holder queries on a planted series", { skip: !agentAvailable() && "capture agent missing" }, () => {
  let planted: Planted;
  let series: Series;
  let last: Snapshot;
  before(async () => {
    ({ planted, series } = await plantedSeries());
    last = series.snapshots[series.snapshots.length - 1];
  });

  it("caches: the planted containers with their growth, most growth first", () => {
    const rows = caches(series, { top: 200 }).objects() as Row[];
    assert.equal(rows[0].path, `${MAIN}.LEAKY`);
    assert.deepEqual(rows[0].lengths, [250, 500, 750, 1000]);
    assert.equal(rows[0].kind, "list");
    const cache = rows[1];
    assert.equal(cache.path, `${MAIN}.CACHE`);
    assert.equal(cache.kind, "dict");
    assert.deepEqual(cache.lengths, [100, 200, 300, 400]);
    assert.equal(cache.delta_length, 300);
    assert.equal(cache.per_snapshot, 100);
    assert.equal(cache.steady, true);
    assert.equal(cache.entry_count, 400);
    const value = selectObject(last, `${MAIN}.CACHE['key:3:99']`);
    assert.equal(cache.entry_max_bytes, last.size[value], "entries are [step, k] lists of small ints");
    assert.ok((cache.retained_bytes as number) > (cache.first_retained_bytes as number));
    const square = rows.find((r) => r.address === planted.ids.square)!;
    assert.equal(square.kind, "lru_cache");
    assert.equal(square.lru_currsize, 57);
    assert.equal(square.lru_maxsize, null);
    assert.equal(square.unbounded_lru, true);
    const cube = rows.find((r) => r.address === planted.ids.cube)!;
    assert.equal(cube.lru_maxsize, 16);
    assert.equal(cube.unbounded_lru, false);
    const weak = rows.find((r) => r.address === planted.ids.WEAK)!;
    assert.equal(weak.kind, "WeakValueDictionary");
    assert.equal(weak.weak, true);
    assert.equal(weak.last_length, 10);
    const items = rows.find((r) => r.address === planted.ids.REGISTRY_ITEMS)!;
    assert.equal(items.path, `${MAIN}.Registry.items`);
    assert.equal(items.last_length, 33);
    assert.ok(!rows.some((r) => String(r.path).startsWith(`${MAIN}.CACHE[`)), "a cache's own entries are not caches");
  });

  it("survivors: objects present with the same address and type in every snapshot", () => {
    const rows = survivors(series, { top: 5000 }).objects() as Row[];
    assert.ok(rows.length > 0);
    for (const r of rows) {
      for (const snap of series.snapshots) {
        const i = findObject(snap, r.address as number);
        assert.ok(i >= 0, `survivor 0x${(r.address as number).toString(16)} is in every snapshot`);
        assert.equal(snap.types[snap.type[i]], r.type);
      }
    }
    const cache = rows.find((r) => r.address === planted.ids.CACHE)!;
    assert.equal(cache.path, `${MAIN}.CACHE`);
    assert.ok((cache.growth_bytes as number) > 0);
    const byRefs = survivors(series, { by: "referrers", top: 5 }).objects() as Row[];
    assert.ok((byRefs[0].referrers as number) >= (byRefs[4].referrers as number));
  });

  it("cycles: the parent/child tree is one group whose handle is TREE", () => {
    const rows = cycles(last, { top: 50 }).objects() as Row[];
    const tree = rows.find((r) => r.entry_address === planted.ids.TREE)!;
    // 111 nodes and the 11 non-empty children lists; the leaves' empty lists point at nothing.
    assert.equal(tree.members, 111 + 11);
    assert.equal(tree.types, "__main__.Node×111, list×11");
    assert.equal(tree.path, `${MAIN}.TREE`);
    assert.equal(tree.has_module, false);
    assert.equal(tree.has_class, false);
    assert.ok(rows.some((r) => r.has_module === true), "the module web is flagged");
    assert.ok(rows.some((r) => r.has_class === true && r.has_module === false), "a class's own cycle (through .__mro__) is flagged");
    const own = cycles(last, { top: 50, structural: false }).objects() as Row[];
    assert.ok(own.every((r) => r.has_module === false && r.has_class === false), "structural: false leaves module and class groups out");
    assert.ok(own.some((r) => r.entry_address === planted.ids.TREE), "and keeps the program's own cycles");
  });

  it("bidirectionalLinks: children lists and parent back-references", () => {
    const rows = bidirectionalLinks(last).objects() as Row[];
    const link = rows.find((r) => r.parent_type === "__main__.Node")!;
    assert.equal(link.child_link, ".children[*]");
    assert.equal(link.child_type, "__main__.Node");
    assert.equal(link.parent_link, ".parent");
    assert.equal(link.pairs, 110);
  });

  it("holders: each planted kind of holder, with what it keeps", () => {
    const rows = holders(last).objects() as Row[];
    const of = (kind: string, test: (r: Row) => boolean) => rows.find((r) => r.kind === kind && test(r));
    const tb = of("traceback", (r) => String(r.via).includes("traceback_payload"))!;
    assert.equal(tb.holder_type, "builtins.ValueError");
    assert.equal(tb.holder_path, `${MAIN}.SAVED_ERROR`);
    assert.equal(tb.held_type, "builtins.bytearray");
    assert.equal(tb.held_length, 300000);
    const closure = of("closure", (r) => r.holder_address === planted.ids.COUNTER)!;
    assert.equal(closure.held_type, "builtins.list");
    assert.equal(closure.held_length, 5000);
    assert.equal(closure.via, ".__closure__[0].cell_contents");
    const bound = of("bound-method", (r) => r.holder_address === planted.ids.CALLBACKS)!;
    assert.equal(bound.held_type, "__main__.Listener");
    assert.equal(bound.via, "[0].__self__");
    assert.equal(bound.holder_path, `${MAIN}.CALLBACKS`);
    const defaults = of("default-argument", (r) => r.holder_address === planted.ids.append_to)!;
    assert.equal(defaults.via, ".__defaults__[0]");
    assert.equal(defaults.held_length, 77);
    const attr = of("class-attribute", (r) => r.held_address === planted.ids.REGISTRY_ITEMS)!;
    assert.equal(attr.via, ".items");
    assert.equal(attr.held_length, 33);
    const thread = of("thread-stack", (r) => String(r.via).includes("thread_payload"))!;
    assert.equal(thread.holder_name, "planted-worker");
    assert.equal(thread.held_length, 123456);
    const garbage = of("garbage", (r) => r.held_type === "__main__.Garbage");
    assert.ok(garbage, "gc.garbage holds the planted uncollectable object");
    const onlyClosures = holders(last, "closure").objects() as Row[];
    assert.ok(onlyClosures.length > 0 && onlyClosures.every((r) => r.kind === "closure"));
    assert.throws(() => holders(last, "nonsense" as never), /unknown holder kind/);
  });

  it("referrers, referents, pathsToRoot, dominated", () => {
    const from = referrers(last, planted.ids.TREE).objects() as Row[];
    assert.ok(from.some((r) => r.type === "builtins.dict" && r.label === "['TREE']"));
    assert.equal(from.filter((r) => r.label === ".parent").length, 10, "its ten children point back");
    const to = referents(last, `${MAIN}.TREE`).objects() as Row[];
    assert.deepEqual(to.map((r) => r.label).sort(), [".__class__", ".children", ".parent"]);
    const children = to.find((r) => r.label === ".children")!;
    assert.equal(children.length, 10);
    const paths = pathsToRoot(last, { address: planted.ids.TREE }, { k: 2 }).objects() as Row[];
    assert.equal(paths[0].expr, `${MAIN}.TREE`);
    assert.equal(paths[0].rank, 0);
    const tree = dominated(last, planted.ids.TREE).objects() as Row[];
    assert.equal(tree[0].address, planted.ids.TREE);
    assert.equal(tree[0].parent, -1);
    assert.equal(tree.filter((r) => r.type === "__main__.Node").length, 111);
    const index = new Set(tree.map((r) => r.index));
    assert.ok(tree.slice(1).every((r) => index.has(r.parent)), "every other row's dominator is in the table");
  });
});
