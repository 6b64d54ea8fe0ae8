// Step 5, "do cycles or two-way trees keep things alive?": reference cycles grouped by their type mix and counted
// in every snapshot, parent/child pairs that point at each other, and the single handle that keeps a group alive.
import { cyclePath, cycleRows, cycles, linkRows, linksTable, type CycleRow, type LinkRow } from "../queries/cycles.js";
import { typeTotals } from "../queries/types.js";
import { formatBytes, formatCount, plural } from "../common/units.js";
import { heldByLibrary, isLibraryName, isLibraryType, objectAt, type Context } from "./context.js";
import {
  MIN_GROWTH_BYTES, MIN_GROWTH_ENTRIES, MIN_GROWTH_OBJECTS, SINGLE_SNAPSHOT_MIN_RETAINED, deltaOf, signed, signedCount,
  trendOf, type Candidate,
} from "./rules.js";
import type { Snapshot } from "../engine/snapshot.js";
import type { StepResult } from "./types.js";

/** Cycles read per snapshot; a leak of more, smaller cycles than this shows in the bidirectional pairs instead. */
const CYCLE_ROWS = 2000;

/** Two-way link groups read per snapshot. */
const LINK_ROWS = 100;

/** Member types that mark a cycle as a class's own structure. */
const CLASS_PARTS = new Set(["type", "getset_descriptor", "member_descriptor", "wrapper_descriptor", "method_descriptor"]);


/** "app.Node×37, list×37" -> "app.Node, list": cycles of one shape share their type set, whatever their size. */
function shape(types: string): string {
  return types.split(", ").map((t) => t.replace(/×\d+$/, "")).sort().join(", ");
}

/** Cycles of one shape in one snapshot: how many, what they retain, and (for the last snapshot) the largest. */
interface ShapeReading { count: number; retained: number; largest: CycleRow; members: number }

/** What step 5 reads of one snapshot while its analysis is at hand: its cycles by shape. */
export type CycleReading = Map<string, ShapeReading>;

/**
 * Step 5's reading of a snapshot (a full one): taken while its analysis is at hand, kept without it. Only the
 * last snapshot's largest cycle of each shape needs its path.
 */
export function readCycles(snap: Snapshot, paths: boolean): CycleReading {
  const shapes = new Map<string, ShapeReading>();
  for (const r of cycleRows(snap, { top: CYCLE_ROWS, structural: false, paths: false })) {
    const key = shape(r.types);
    const s = shapes.get(key);
    if (!s) {
      shapes.set(key, { count: 1, retained: r.retained_bytes, largest: r, members: r.members });
      continue;
    }
    s.count++;
    s.retained += r.retained_bytes;
    s.members += r.members;
    if (r.retained_bytes > s.largest.retained_bytes) s.largest = r;
  }
  if (paths) for (const s of shapes.values()) s.largest = { ...s.largest, path: cyclePath(snap, s.largest) };
  return shapes;
}

/** `earlier`: the readings of the snapshots before the last, oldest first (readCycles). */
export function cyclesStep(ctx: Context, earlier: CycleReading[]): { step: StepResult; candidates: Candidate[] } {
  const base = {
    id: "cycles", number: 5, title: "Do cycles or two-way trees keep things alive?",
    question: "Do reference cycles or parent/child back-references multiply across snapshots, and what single handle keeps them alive?",
    query: "cycles(snapshot); bidirectionalLinks(snapshot)",
  };
  if (!ctx.full) {
    return { step: { ...base, status: "skipped", answer: "Census snapshots carry no object graph.", evidence: { tables: {}, charts: {} } }, candidates: [] };
  }
  const n = ctx.snaps.length;
  const single = n === 1;
  const candidates: Candidate[] = [];

  // Cycles: per shape, how many groups and how many bytes they retain in each snapshot.
  const readings = [...earlier, readCycles(ctx.last, true)];
  const shapes = new Map<string, { count: number[]; retained: number[]; largest: CycleRow | null; members: number }>();
  readings.forEach((reading, k) => {
    for (const [key, r] of reading) {
      let s = shapes.get(key);
      if (!s) shapes.set(key, (s = { count: new Array(n).fill(0), retained: new Array(n).fill(0), largest: null, members: 0 }));
      s.count[k] = r.count;
      s.retained[k] = r.retained;
      if (k === n - 1) {
        s.members = r.members;
        s.largest = r.largest;
      }
    }
  });
  for (const [key, s] of shapes) {
    // A class is a cycle with its namespace and descriptors (they point back through __objclass__): structure, not a leak.
    if (!s.largest || key.split(", ").some((t) => CLASS_PARTS.has(t))) continue;
    const object = objectAt(ctx, s.largest.entry_address);
    const library = key.split(", ").every((t) => isLibraryType(ctx, t)) || heldByLibrary(ctx, object);
    const trend = single ? "single" : trendOf(s.retained);
    const growth = deltaOf(s.retained);
    const grows = trend === "every" || trend === "steady";
    const lastCount = s.count[n - 1];
    const lastRetained = s.retained[n - 1];
    const suspect = single && !library && lastRetained >= SINGLE_SNAPSHOT_MIN_RETAINED;
    if (!(grows && growth >= MIN_GROWTH_BYTES) && !suspect) continue;
    candidates.push({
      kind: "cycle",
      title: `${plural(lastCount, "reference cycle")} of ${key} ${lastCount === 1 ? "retains" : "retain"} ${formatBytes(lastRetained)}` +
        (single ? "" : deltaOf(s.count) > 0 ? ` (${signedCount(deltaOf(s.count), "cycle")} over the series)` : ` (+${formatBytes(growth)} over the series)`),
      type: s.largest.entry_type,
      path: s.largest.path,
      evidence: { types: key, cycles: s.count, retained_sizes: s.retained, members: s.members, handle_type: s.largest.entry_type },
      step: "cycles",
      object,
      trend,
      growthBytes: single ? lastRetained : growth,
      significant: true,
      library,
      severity: suspect ? "low" : undefined,
    });
  }

  // Two-way links: pairs per (parent type, link, child type, back-link) in each snapshot; the earlier snapshots
  // (which need no analysis for it) are read for the parent types of the last one's groups only.
  const lastLinks = linkRows(ctx.last, { top: LINK_ROWS });
  const parentTypes = new Set(lastLinks.map((r) => r.parent_type));
  const links = [...ctx.snaps.slice(0, -1).map((snap) => linkRows(snap, { top: LINK_ROWS, paths: false, parentTypes })), lastLinks];
  const key = (r: LinkRow) => `${r.parent_type}|${r.child_link}|${r.child_type}|${r.parent_link}`;
  const childBytes = typeTotals(ctx.last);
  for (const r of links[n - 1]) {
    const pairs = links.map((rows) => rows.find((x) => key(x) === key(r))?.pairs ?? 0);
    const trend = single ? "single" : trendOf(pairs);
    const dPairs = deltaOf(pairs);
    const t = childBytes.names.indexOf(r.child_type);
    const avgChild = t >= 0 && childBytes.count[t] > 0 ? childBytes.bytes[t] / childBytes.count[t] : 0;
    const object = objectAt(ctx, r.example_address);
    const library = (isLibraryType(ctx, r.parent_type) && isLibraryType(ctx, r.child_type)) || heldByLibrary(ctx, object);
    const grows = (trend === "every" || trend === "steady") && (dPairs >= MIN_GROWTH_ENTRIES || dPairs * avgChild >= MIN_GROWTH_BYTES);
    const suspect = single && !library && r.pairs >= MIN_GROWTH_OBJECTS;
    if (!grows && !suspect) continue;
    candidates.push({
      kind: "bidirectional-tree",
      title: `${formatCount(r.pairs)} ${r.parent_type} → ${r.child_type} pairs linked both ways (${r.child_link} and ${r.parent_link})` +
        (single ? "" : `, ${signed(dPairs)} over the series`),
      type: r.child_type,
      path: r.example_path,
      evidence: { parent_type: r.parent_type, child_link: r.child_link, child_type: r.child_type, parent_link: r.parent_link, pairs },
      step: "cycles",
      object,
      trend,
      growthBytes: single ? r.pairs * avgChild : dPairs * avgChild,
      significant: true,
      library,
      // Links between two library classes (a pool and its connection records) are that library's own structure.
      internal: isLibraryName(ctx, r.parent_type) && isLibraryName(ctx, r.child_type),
      severity: suspect ? "low" : undefined,
    });
  }

  const cycleTable = cycles(ctx.last, { top: 20 });
  // The last snapshot's first 20 link rows are the table bidirectionalLinks(last, { top: 20 }) gives.
  const linkTable = linksTable(links[n - 1].slice(0, 20));
  const growing = candidates.filter((c) => c.severity === undefined && !c.library);
  const step: StepResult = {
    ...base,
    status: growing.length > 0 ? "leak" : candidates.length > 0 ? "warn" : single ? "info" : "ok",
    answer: growing.length > 0
      ? `Yes: ${growing.map((c) => c.kind === "cycle" ? `cycles of ${c.evidence.types}` : `${c.evidence.parent_type}${c.evidence.child_link} ↔ ${c.evidence.parent_link}`).slice(0, 2).join("; ")} multiply, kept through ${growing[0].path ?? "an unreachable group"}.`
      : candidates.length > 0
        ? single
          ? `One snapshot: ${plural(candidates.length, "group")} of cycles or two-way links in program types worth a look.`
          : `${plural(candidates.length, "group")} of cycles ${candidates.length === 1 ? "grows" : "grow"}, all of standard-library types or held by the standard library.`
        : single
          ? "No large cycle or two-way tree of program types in this snapshot."
          : "No cycle or two-way tree multiplies across the series.",
    evidence: { tables: { cycles: cycleTable, bidirectionalLinks: linkTable }, charts: {} },
  };
  return { step, candidates };
}
