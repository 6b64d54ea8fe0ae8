// Step 6, "is an obscure holder keeping it?": saved exceptions and their tracebacks, closures, bound methods in
// containers, mutable default arguments and class attributes, and gc.garbage, each grouped by where it holds and
// counted in every snapshot.
import { graphOf } from "../engine/analysis-cache.js";
import { findHolds, HOLDER_KINDS, holderPaths, holderRow, holders, rankedHolds, type Hold, type HolderKind, type HolderRow } from "../queries/holders.js";
import { objectName, tableOf } from "../queries/input.js";
import { formatBytes, formatCount, plural } from "../common/units.js";
import { heldByLibrary, isLibraryName, objectAt, pathOf, type Context } from "./context.js";
import {
  MIN_GROWTH_BYTES, MIN_GROWTH_ENTRIES, SINGLE_SNAPSHOT_MIN_RETAINED, deltaOf, signed, trendOf, type Candidate,
} from "./rules.js";
import { NONE, type Snapshot } from "../engine/snapshot.js";
import type { FindingKind, StepResult } from "./types.js";

const FINDING_OF: Partial<Record<HolderKind, FindingKind>> = {
  traceback: "traceback-retention",
  closure: "closure-retention",
  "bound-method": "bound-method-retention",
  "default-argument": "default-argument",
  "class-attribute": "class-attribute",
  garbage: "uncollectable",
};
const KINDS = Object.keys(FINDING_OF) as HolderKind[];
/** Thread stacks are listed in the evidence table (a long-running thread's locals), though no rule judges them. */
const KIND_SET: ReadonlySet<HolderKind> = new Set<HolderKind>([...KINDS, "thread-stack"]);
/** Closures that multiply are made and stored per request: what each captures is secondary to their number. */
const CLOSURES_ADDED_REMEDY =
  "A new function is made and kept per request (there are more of them in every snapshot): register one function " +
  "at start-up and pass the per-request values to it as arguments, or remove each one when its request ends; " +
  "and let it capture only what it needs.";
/** Enough rows to count every hold of a kind in a real program. */
const ALL_ROWS = 1_000_000;

type HoldRow = HolderRow;

/** The text with every `[digits]` as `[*]` (a hand-written scan: it runs once per hold). */
function anyIndex(text: string | null): string {
  const t = text ?? "";
  if (t.indexOf("[") < 0) return t;
  let out = "";
  let from = 0;
  for (let i = t.indexOf("["); i >= 0; i = t.indexOf("[", i + 1)) {
    let j = i + 1;
    while (j < t.length && t.charCodeAt(j) >= 48 && t.charCodeAt(j) <= 57) j++;
    if (j > i + 1 && t[j] === "]") {
      out += t.slice(from, i) + "[*]";
      from = j + 1;
      i = j;
    }
  }
  return from === 0 ? t : out + t.slice(from);
}

/** One row of the step's table: a group of holds of one shape, in every snapshot. */
interface GroupRow {
  kind: HolderKind; holder: string; via: string; held_type: string; holds: number; counts: number[];
  held_retained_bytes: number; owner: "program" | "library"; finding: boolean;
}

/** Holds of one shape: the same holder (or kind of holder), the same way of holding, the same held type. */
function groupKey(r: Pick<HoldRow, "kind" | "holder_type" | "holder_name" | "holder_path" | "via" | "held_type">): string {
  switch (r.kind) {
    case "traceback": return `${r.kind}|${r.holder_type}|${r.via}|${r.held_type}`;
    case "bound-method": return `${r.kind}|${anyIndex(r.holder_path)}|${anyIndex(r.via)}|${r.held_type}`;
    case "garbage": return `${r.kind}|${r.held_type}`;
    default: return `${r.kind}|${r.holder_name}|${r.via}|${r.held_type}`;
  }
}

function titleOf(r: HoldRow, count: number, retained: number): string {
  const kept = formatBytes(retained);
  switch (r.kind) {
    case "traceback":
      return `${formatCount(count)} saved ${r.holder_type} exception${count === 1 ? " keeps its" : "s keep their"} traceback frames alive, ` +
        `with the local ${r.via.replace(/^.*\.f_locals\[(.*)\]$/, "$1")} (${kept})`;
    case "bound-method":
      return `${formatCount(count)} bound method${count === 1 ? "" : "s"} stored in ${r.holder_path ?? r.holder_type} ${count === 1 ? "keeps" : "keep"} ${r.held_type} instances alive (${kept})`;
    case "closure":
      return `${formatCount(count)} closure${count === 1 ? "" : "s"} of ${r.holder_name} ${count === 1 ? "keeps" : "keep"} ${r.held_type} alive through ${r.via} (${kept})`;
    case "default-argument":
      return `mutable default argument ${r.holder_name}${r.via} (${r.held_type}) is shared by every call and keeps ${kept}`;
    case "class-attribute":
      return `mutable class attribute ${r.holder_name}${r.via} (${r.held_type}) is shared by every instance and keeps ${kept}`;
    default:
      return `${formatCount(count)} ${r.held_type} object${count === 1 ? "" : "s"} in gc.garbage can never be freed (${kept})`;
  }
}

/** A path from a library module's globals (`sys.modules['enum']...`), for holders whose shortest path has no module root. */
function isLibraryPath(ctx: Context, path: string | null): boolean {
  const module = /^sys\.modules\['([^']+)'\]/.exec(path ?? "")?.[1];
  return module !== undefined && ctx.libraryModules.has(module);
}

/**
 * Holds of one shape in one snapshot: how many, how many distinct objects they hold, what those keep (each object
 * counted once: a thousand closures over one shared empty tuple keep one tuple), and the hold keeping the most.
 */
interface GroupReading { count: number; held: number; retained: number; example: HoldRow }

/** What step 6 reads of one snapshot: its holds grouped by shape (groupKey). */
export type HolderReading = Map<string, GroupReading>;

/** Step 6's reading of a snapshot (a full one): taken while its analysis is at hand, kept without it. */
export function readHolders(snap: Snapshot): HolderReading {
  const g = graphOf(snap);
  const paths = holderPaths(g);
  const keyOf = (h: Hold) => groupKey({
    kind: h.kind, holder_type: snap.types[snap.type[h.holder]], holder_name: objectName(snap, h.holder),
    holder_path: h.kind === "bound-method" ? paths(h.holder) : null, via: h.via, held_type: snap.types[snap.type[h.held]],
  });
  // A container's bound methods come by the thousand with the same key: it is found by holder, held type and
  // index-free link, without building it each time.
  const boundKeys = new Map<number, Map<string, Map<number, string>>>();
  // The hold before, as they come in runs: a list's items one after another.
  let previous = { holder: NONE, link: "", heldType: NONE, key: "" };
  const boundKey = (h: Hold): string => {
    const link = anyIndex(h.via);
    const heldType = snap.type[h.held];
    if (previous.holder === h.holder && previous.heldType === heldType && previous.link === link) return previous.key;
    previous = { holder: h.holder, link, heldType, key: lookUpBoundKey(h, link, heldType) };
    return previous.key;
  };
  const lookUpBoundKey = (h: Hold, link: string, heldType: number): string => {
    let byLink = boundKeys.get(h.holder);
    if (!byLink) boundKeys.set(h.holder, (byLink = new Map()));
    let byType = byLink.get(link);
    if (!byType) byLink.set(link, (byType = new Map()));
    let key = byType.get(heldType);
    if (key === undefined) byType.set(heldType, (key = keyOf(h)));
    return key;
  };
  const found = findHolds(g, KIND_SET);
  // holders() lists at most ALL_ROWS holds of a kind: past that, only its rows count.
  const perKind = new Map<HolderKind, number>();
  for (const h of found) perKind.set(h.kind, (perKind.get(h.kind) ?? 0) + 1);
  const holds = [...perKind.values()].some((count) => count > ALL_ROWS) ? rankedHolds(g, KIND_SET, ALL_ROWS) : found;
  // In the order found, each group's example the hold keeping the most (the first found among equals); then the
  // groups in the order holders()'s rows would give them: by kind, then by their example, as a sort of every hold
  // would (sums of whole bytes do not depend on their order).
  const byKey = new Map<string, { count: number; held: Set<number>; retained: number; best: number }>();
  holds.forEach((h, at) => {
    const key = h.kind === "bound-method" ? boundKey(h) : keyOf(h);
    const grp = byKey.get(key);
    if (!grp) {
      byKey.set(key, { count: 1, held: new Set([h.held]), retained: g.retained[h.held], best: at });
      return;
    }
    grp.count++;
    if (!grp.held.has(h.held)) {
      grp.held.add(h.held);
      grp.retained += g.retained[h.held];
    }
    if (g.retained[h.held] > g.retained[holds[grp.best].held]) grp.best = at;
  });
  const kindRank = (k: HolderKind) => HOLDER_KINDS.indexOf(k);
  const ordered = [...byKey].sort(([, a], [, b]) => {
    const x = holds[a.best];
    const y = holds[b.best];
    return kindRank(x.kind) - kindRank(y.kind) || g.retained[y.held] - g.retained[x.held] || a.best - b.best;
  });
  const groups: HolderReading = new Map();
  for (const [key, grp] of ordered) {
    groups.set(key, { count: grp.count, held: grp.held.size, retained: grp.retained, example: holderRow(g, holds[grp.best], paths) });
  }
  return groups;
}

/** `earlier`: the readings of the snapshots before the last, oldest first (readHolders). */
export function holdersStep(ctx: Context, earlier: HolderReading[]): { step: StepResult; candidates: Candidate[] } {
  const base = {
    id: "holders", number: 6, title: "Is an obscure holder keeping it?",
    question: "Do saved tracebacks, closures, bound methods in containers, mutable defaults or class attributes, thread stacks or gc.garbage hold more each time?",
    query: "holders(snapshot)",
  };
  const columns = ["kind", "holder", "via", "held_type", "holds", "counts", "held_retained_bytes", "owner", "finding"] as const;
  if (!ctx.full) {
    return { step: { ...base, status: "skipped", answer: "Census snapshots carry no object graph.", evidence: { tables: {}, charts: {} } }, candidates: [] };
  }
  const n = ctx.snaps.length;
  const single = n === 1;
  const groups = new Map<string, { count: number[]; held: number[]; retained: number[]; example: HoldRow | null }>();
  [...earlier, readHolders(ctx.last)].forEach((reading, k) => {
    for (const [key, r] of reading) {
      let grp = groups.get(key);
      if (!grp) groups.set(key, (grp = { count: new Array(n).fill(0), held: new Array(n).fill(0), retained: new Array(n).fill(0), example: null }));
      grp.count[k] = r.count;
      grp.held[k] = r.held;
      grp.retained[k] = r.retained;
      if (k === n - 1) grp.example = r.example;
    }
  });
  const candidates: Candidate[] = [];
  const rows: GroupRow[] = [];
  for (const grp of groups.values()) {
    const r = grp.example;
    if (!r) continue; // gone by the last snapshot
    const object = objectAt(ctx, r.held_address);
    const library = heldByLibrary(ctx, object) || heldByLibrary(ctx, objectAt(ctx, r.holder_address));
    const row: GroupRow = {
      kind: r.kind, holder: anyIndex(r.holder_path) || r.holder_name || r.holder_type, via: r.via, held_type: r.held_type,
      holds: grp.count[n - 1], counts: grp.count, held_retained_bytes: grp.retained[n - 1],
      owner: library || isLibraryPath(ctx, r.holder_path) ? "library" : "program", finding: false,
    };
    rows.push(row);
    if (FINDING_OF[r.kind] === undefined) continue;
    const trend = single ? "single" : trendOf(grp.retained);
    const dRetained = deltaOf(grp.retained);
    // Growth in number is growth in what is held: more holds of one shared object keep nothing more.
    const dCount = deltaOf(grp.held);
    const grows = (trend === "every" || trend === "steady" || trend === "irregular") && (dRetained >= MIN_GROWTH_BYTES || dCount >= MIN_GROWTH_ENTRIES);
    const lastCount = grp.count[n - 1];
    const lastRetained = grp.retained[n - 1];
    const garbage = r.kind === "garbage";
    const suspect = single && !library && lastRetained >= SINGLE_SNAPSHOT_MIN_RETAINED;
    if (!grows && !garbage && !suspect) continue;
    // More functions (or classes) each with a default (or attribute) of its own: nothing is shared between calls;
    // the functions made per request are the growth, and whatever keeps them is its holder.
    const perObject = r.kind === "default-argument" || r.kind === "class-attribute";
    if (perObject && !single && dCount >= MIN_GROWTH_ENTRIES) continue;
    row.finding = true;
    candidates.push({
      kind: FINDING_OF[r.kind] as FindingKind,
      title: titleOf(r, lastCount, lastRetained) +
        (single || !grows ? "" : dCount > 0 ? `, ${signed(dCount)} over the series` : `, +${formatBytes(dRetained)} over the series`),
      type: r.held_type,
      path: pathOf(ctx, object) ?? r.holder_path,
      evidence: {
        holder_type: r.holder_type, holder_path: r.holder_path, via: r.via, held_type: r.held_type,
        counts: grp.count, retained_sizes: grp.retained,
      },
      step: "holders",
      object,
      trend,
      growthBytes: single || garbage ? Math.max(lastRetained, dRetained) : dRetained,
      significant: true,
      library,
      // gc.garbage is never freed: decisive even in one snapshot. One-snapshot suspects stay low.
      severity: garbage ? "high" : suspect ? "low" : undefined,
      ...(r.kind === "closure" && !single && dCount >= MIN_GROWTH_ENTRIES ? { remedy: CLOSURES_ADDED_REMEDY } : {}),
      // A closure a library function makes (an Engine's own connect hooks) is that library's machinery: it does
      // not explain why the program's holder grows.
      ...(r.kind === "closure" && isLibraryName(ctx, r.holder_name) ? { internal: true } : {}),
    });
  }
  // Findings first, then what the program's own code holds, then the standard library's holds: the culprit is never
  // cut off below a screenful of library closures.
  rows.sort((a, b) => Number(b.finding) - Number(a.finding) || Number(a.owner === "library") - Number(b.owner === "library") ||
    b.held_retained_bytes - a.held_retained_bytes);
  const table = tableOf(columns, rows);
  const growing = candidates.filter((c) => c.severity === undefined && !c.library || c.kind === "uncollectable");
  const step: StepResult = {
    ...base,
    status: growing.length > 0 ? "leak" : candidates.length > 0 ? "warn" : single ? "info" : "ok",
    answer: growing.length > 0
      ? `Yes: ${growing.slice(0, 2).map((c) => c.title.split(" (")[0]).join("; ")}.`
      : candidates.length > 0
        ? `${plural(candidates.length, "holder")} worth a look, none growing in the program's own code.`
        : single
          ? "No large obscure holder in this snapshot."
          : "No traceback, closure, bound method, mutable default or class attribute holds more over the series.",
    evidence: { tables: { holders: table }, charts: {} },
  };
  return { step, candidates };
}
