// Query helpers on a real series captured from a Python program with planted content (test/helpers/capture.ts):
// census, types, objects, strings, memory, allocation sites, and object selection.
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import type { Series } from "../src/engine/series.js";
import type { Snapshot } from "../src/engine/snapshot.js";
import { census } from "../src/queries/census.js";
import { selectObject, resolvePath } from "../src/queries/input.js";
import { memoryGap } from "../src/queries/memory.js";
import { instances, largest, sizeDistribution } from "../src/queries/objects.js";
import { duplicateStrings, growingStrings, largestStrings, stringTotals } from "../src/queries/strings.js";
import { typeCounts, typeGrowth, typeHistory } from "../src/queries/types.js";
import { allocationSites } from "../src/queries/alloc.js";
import { plantedSeries, STEPS, tracedSnapshot, type Planted } from "./helpers/capture.js";
import { agentAvailable } from "./helpers/python.js";

type Row = Record<string, unknown>;
const MAIN = "sys.modules['__main__']";

describe("query helpers on a planted series", { skip: !agentAvailable() && "capture agent missing" }, () => {
  let planted: Planted;
  let series: Series;
  let last: Snapshot;
  before(async () => {
    ({ planted, series } = await plantedSeries());
    last = series.snapshots[series.snapshots.length - 1];
  });
  const indexOf = (snap: Snapshot, name: string) => selectObject(snap, planted.ids[name]);

  it("census: one row per snapshot with object counts and memory figures", () => {
    const rows = census(series).objects() as Row[];
    assert.equal(rows.length, STEPS);
    rows.forEach((r, k) => {
      const snap = series.snapshots[k];
      assert.equal(r.objects, snap.objectCount);
      assert.ok((r.tracked as number) > 0 && (r.tracked as number) < snap.objectCount);
      assert.ok((r.rss_bytes as number) > (r.shallow_bytes as number));
      assert.ok((r.arena_allocated_bytes as number) >= (r.arena_used_bytes as number));
      if (k > 0) assert.ok((r.elapsed_s as number) > (rows[k - 1].elapsed_s as number));
    });
  });

  it("typeCounts: exact count and bytes of a planted class", () => {
    const row = (typeCounts(last).objects() as Row[]).find((r) => r.type === "__main__.Planted")!;
    const one = last.size[indexOf(last, "PLANTED0")];
    assert.equal(row.count, 1234 + 33);
    assert.equal(row.shallow_bytes, 1267 * one);
    assert.equal((typeCounts(last).objects() as Row[]).find((r) => r.type === "__main__.Node")!.count, 111);
  });

  it("typeGrowth: a class growing by 250 per snapshot is steady; a constant one is not", () => {
    const rows = typeGrowth(series, { top: 100000 }).objects() as Row[];
    const leaky = rows.find((r) => r.type === "__main__.Leaky")!;
    assert.deepEqual(leaky.counts, [250, 500, 750, 1000]);
    assert.equal(leaky.delta_count, 750);
    assert.equal(leaky.per_snapshot, 250);
    assert.equal(leaky.r2, 1);
    assert.equal(leaky.monotonic, true);
    assert.equal(leaky.steady, true);
    assert.ok((leaky.per_hour as number) > 0);
    const node = rows.find((r) => r.type === "__main__.Node")!;
    assert.equal(node.delta_count, 0);
    assert.equal(node.steady, false);
    const top = typeGrowth(series, { top: 3 }).objects() as Row[];
    assert.equal(top.length, 3);
    assert.ok((top[0].delta_count as number) >= (top[2].delta_count as number));
  });

  it("typeHistory: counts of chosen types in every snapshot", () => {
    const rows = typeHistory(series, { types: ["__main__.Leaky", "__main__.Planted"] }).objects() as Row[];
    assert.deepEqual(rows.filter((r) => r.type === "__main__.Leaky").map((r) => r.count), [250, 500, 750, 1000]);
    assert.deepEqual(rows.filter((r) => r.type === "__main__.Planted").map((r) => r.count), [1267, 1267, 1267, 1267]);
  });

  it("instances and largest: the tree's root retains the whole tree and has its path", () => {
    const nodes = instances(last, "Node").objects() as Row[];
    assert.equal(nodes.length, 111);
    assert.equal(nodes[0].address, planted.ids.TREE);
    assert.equal(nodes[0].path, `${MAIN}.TREE`);
    const top = largest(last, { type: "__main__.Node", top: 1 }).objects() as Row[];
    assert.equal(top[0].address, planted.ids.TREE);
    const biggest = largest(last, { top: 5 }).objects() as Row[];
    assert.equal(biggest.length, 5);
    assert.ok(biggest.every((r) => r.type !== "builtins.module"), "module keepers are left out");
    const byShallow = largest(last, { by: "shallow", top: 3 }).objects() as Row[];
    assert.ok((byShallow[0].shallow_bytes as number) >= (byShallow[2].shallow_bytes as number));
  });

  it("sizeDistribution: every object falls in one power-of-two bucket", () => {
    const all = sizeDistribution(last).objects() as Row[];
    assert.equal(all.reduce((s, r) => s + (r.count as number), 0), last.objectCount);
    const planted = sizeDistribution(last, { types: ["__main__.Planted"] }).objects() as Row[];
    assert.equal(planted.length, 1);
    assert.equal(planted[0].count, 1267);
    const one = last.size[indexOf(last, "PLANTED0")];
    assert.ok((planted[0].low as number) <= one && one <= (planted[0].high as number));
  });

  it("stringTotals: the planted byte buffers add up exactly", () => {
    const rows = stringTotals(series).objects() as Row[];
    assert.equal(rows.length, 3 * STEPS);
    for (const r of rows.filter((r) => r.type === "bytearray")) {
      assert.equal(r.count, 3);
      assert.equal(r.total_length, 300000 + 200000 + 123456);
    }
    const str = rows.filter((r) => r.type === "str");
    series.snapshots.forEach((snap, k) => {
      const counted = (typeCounts(snap).objects() as Row[]).find((r) => r.type === "builtins.str")!;
      assert.equal(str[k].count, counted.count);
      assert.equal(str[k].total_bytes, counted.shallow_bytes);
    });
  });

  it("largestStrings, growingStrings: the growing buffer at a stable path", () => {
    const big = largestStrings(last, { types: ["str"], top: 50 }).objects() as Row[];
    const buffer = big.find((r) => r.address === planted.ids.BUFFER)!;
    assert.equal(buffer.length, 1000 * STEPS);
    assert.equal(buffer.path, `${MAIN}.BUFFER`);
    assert.equal(buffer.truncated, true);
    const growing = growingStrings(series).objects() as Row[];
    const row = growing.find((r) => r.path === `${MAIN}.BUFFER`)!;
    assert.deepEqual(row.lengths, [1000, 2000, 3000, 4000]);
    assert.equal(row.delta_length, 3000);
    assert.equal(row.steady, true);
  });

  it("duplicateStrings: fifty equal strings waste 49 copies", () => {
    const rows = duplicateStrings(last).objects() as Row[];
    const dup = rows.find((r) => String(r.value).startsWith("dup-zzz"))!;
    assert.equal(dup.count, 50);
    assert.equal(dup.length, 104);
    assert.equal(dup.wasted_bytes, 49 * (dup.size_bytes as number));
    assert.match(String(dup.example_path), /^sys\.modules\['__main__'\]\.DUPLICATES\[\d+\]$/);
  });

  it("memoryGap: RSS against Python objects per snapshot", () => {
    const rows = memoryGap(series).objects() as Row[];
    assert.equal(rows.length, STEPS);
    for (const r of rows) {
      assert.equal(r.gap_bytes, (r.rss_bytes as number) - (r.python_bytes as number));
      assert.ok((r.python_share as number) > 0 && (r.python_share as number) < 1);
    }
  });

  it("selects objects by address, hex text, path expression and table row", () => {
    const tree = indexOf(last, "TREE");
    assert.equal(selectObject(last, "0x" + planted.ids.TREE.toString(16)), tree);
    assert.equal(selectObject(last, `${MAIN}.TREE`), tree);
    assert.equal(selectObject(last, `${MAIN}.__dict__['TREE']`), tree);
    assert.equal(selectObject(last, { address: planted.ids.TREE }), tree);
    assert.equal(selectObject(last, { index: tree }), tree);
    const child = selectObject(last, `${MAIN}.TREE.children[3].children[7]`);
    assert.equal(last.types[last.type[child]], "__main__.Node");
    assert.equal(selectObject(last, `${MAIN}.TREE.children[3].children[7].parent.parent`), tree);
    assert.equal(selectObject(last, `${MAIN}.CACHE['key:2:5']`), resolvePath(last, `${MAIN}.__dict__['CACHE']['key:2:5']`));
    assert.throws(() => selectObject(last, `${MAIN}.NO_SUCH_NAME`), /no object at path/);
    assert.throws(() => selectObject(last, 12345), /no object at address 0x3039/);
  });

  it("allocationSites: the line that created a planted object", async () => {
    const traced = await tracedSnapshot();
    const rows = allocationSites(traced.series, { type: "__main__.Allocated" }).objects() as Row[];
    assert.equal(rows.length, 1);
    assert.equal(rows[0].file, traced.planted.script);
    assert.equal(rows[0].line, traced.planted.alloc_line);
    assert.equal(rows[0].count, 1);
    assert.equal(rows[0].types, "__main__.Allocated×1");
    const all = allocationSites(traced.series, { top: 1000 }).objects() as Row[];
    assert.ok(all.some((r) => r.site === rows[0].site), "the site is also listed without a type filter");
    assert.equal(allocationSites(series).numRows(), 0, "no sites without tracemalloc");
    // tracemalloc's own memory is reported apart, so that RSS growth can be judged without it.
    const overhead = memoryGap(traced.series).array("tracemalloc_overhead_bytes") as (number | null)[];
    assert.ok(overhead.every((v) => v !== null && v > 0), `overhead ${overhead}`);
    assert.ok((memoryGap(series).array("tracemalloc_overhead_bytes") as (number | null)[]).every((v) => v === null));
  });
});
