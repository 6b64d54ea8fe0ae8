// Obscure holders: references that keep objects alive without an obvious container — saved exceptions and their
// tracebacks, closures, bound methods in callback lists, mutable default arguments, mutable class attributes,
// thread stacks and gc.garbage.
import * as aq from "arquero";
import { graphOf } from "../engine/analysis-cache.js";
import type { HeapGraph } from "../engine/graph.js";
import { edgeLabel } from "../engine/paths.js";
import { EDGE_INDEX, EDGE_SUFFIX, NONE, ROOT_GARBAGE, ROOT_THREAD, type Snapshot } from "../engine/snapshot.js";
import { formatBytes } from "../common/units.js";
import { heldByAgentModule, lastOf, objectLength, objectName, pathExpr, requireFull, stringId, tableOf, type SeriesInput } from "./input.js";

export const HOLDER_KINDS = [
  "traceback", "closure", "bound-method", "default-argument", "class-attribute", "thread-stack", "garbage",
] as const;
export type HolderKind = (typeof HOLDER_KINDS)[number];

/** One hold: a holder keeping an object alive in one way. */
export interface Hold {
  kind: HolderKind;
  holder: number;
  /** How the holder reaches the held object, e.g. "fail: .f_locals['payload']" or ".__defaults__[0]". */
  via: string;
  held: number;
}

const MUTABLE = new Set([
  "builtins.list", "builtins.dict", "builtins.set", "builtins.bytearray", "collections.deque",
  "collections.OrderedDict", "collections.defaultdict", "collections.Counter",
]);

/** The labels collect() looks for, as codes (0: any other label; UNKNOWN: not looked at yet). */
const SELF = 1;
const CLOSURE = 2;
const CELL_CONTENTS = 3;
const DEFAULTS = 4;
const KWDEFAULTS = 5;
const TB_NEXT = 6;
const TB_FRAME = 7;
const DICT = 8;
const F_BACK = 9;
const TRACEBACK = 10;
const UNKNOWN = 255;
const LABEL_CODES: Record<string, number> = {
  ".__self__": SELF, ".__closure__": CLOSURE, ".cell_contents": CELL_CONTENTS, ".__defaults__": DEFAULTS,
  ".__kwdefaults__": KWDEFAULTS, ".tb_next": TB_NEXT, ".tb_frame": TB_FRAME, ".__dict__": DICT, ".f_back": F_BACK,
  ".__traceback__": TRACEBACK,
};

/**
 * The label code of every edge, by string id, worked out the first time a label is met (so that only the labels of
 * the objects collect() looks at are decoded).
 */
function labelCoder(snap: Snapshot): (e: number) => number {
  const codes = new Uint8Array(snap.strings.count).fill(UNKNOWN);
  return (e) => {
    const label = snap.edgeLabel[e];
    if (snap.edgeKind[e] === EDGE_INDEX || label === NONE) return 0;
    let code = codes[label];
    if (code === UNKNOWN) codes[label] = code = LABEL_CODES[edgeLabel(snap, e)] ?? 0;
    return code;
  };
}

/** Targets of the edges of obj whose label satisfies `want`, with the labels. */
function edgesWhere(snap: Snapshot, obj: number, want: (label: string) => boolean): { target: number; label: string }[] {
  const out: { target: number; label: string }[] = [];
  for (let e = snap.edgeStart[obj]; e < snap.edgeStart[obj + 1]; e++) {
    const label = edgeLabel(snap, e);
    if (want(label)) out.push({ target: snap.edgeTarget[e], label });
  }
  return out;
}

/** Locals of a frame as holds: "co_name file:line: name". */
function frameLocals(snap: Snapshot, kind: HolderKind, holder: number, frame: number, add: HoldSink) {
  const where = objectName(snap, frame);
  for (const { target, label } of edgesWhere(snap, frame, (l) => l.startsWith(".f_locals["))) add(kind, holder, `${where}: ${label}`, target);
}

type HoldSink = (kind: HolderKind, holder: number, via: string, held: number) => void;

/** The holds of every kind, the capture agent's own left out. */
function collect(g: HeapGraph): Hold[] {
  const snap = g.snap;
  const typeName = (i: number) => snap.types[snap.type[i]];
  const agent = heldByAgentModule(g);
  const out: Hold[] = [];
  const add: HoldSink = (kind, holder, via, held) => {
    if (agent[holder] === 0 && agent[held] === 0) out.push({ kind, holder, via, held });
  };
  const codeOf = labelCoder(snap);
  const edgeTo = (obj: number, code: number): number => {
    for (let e = snap.edgeStart[obj]; e < snap.edgeStart[obj + 1]; e++) if (codeOf(e) === code) return snap.edgeTarget[e];
    return NONE;
  };
  const tb = snap.types.indexOf("builtins.traceback");
  const fn = snap.types.indexOf("builtins.function");
  const method = snap.types.indexOf("builtins.method");
  const container = Uint8Array.from(snap.types, (name) => (isContainer(name) ? 1 : 0));
  const isClass = classes(snap);
  for (let i = 0; i < snap.objectCount; i++) {
    const t = snap.type[i];
    if (t === tb) {
      // A traceback held by an exception's __traceback__: every frame of the chain and its locals.
      for (let k = g.revStart[i]; k < g.revStart[i + 1]; k++) {
        if (codeOf(g.revEdge[k]) !== TRACEBACK || snap.edgeKind[g.revEdge[k]] !== EDGE_SUFFIX) continue;
        for (let cur = i, hops = 0; cur !== NONE && hops < 1000; cur = edgeTo(cur, TB_NEXT), hops++) {
          const frame = edgeTo(cur, TB_FRAME);
          if (frame !== NONE) frameLocals(snap, "traceback", g.revSource[k], frame, add);
        }
      }
    } else if (t === fn) {
      const cells = edgeTo(i, CLOSURE);
      if (cells !== NONE) {
        for (let e = snap.edgeStart[cells]; e < snap.edgeStart[cells + 1]; e++) {
          const contents = edgeTo(snap.edgeTarget[e], CELL_CONTENTS);
          if (contents !== NONE) add("closure", i, `.__closure__${edgeLabel(snap, e)}.cell_contents`, contents);
        }
      }
      const defaults = edgeTo(i, DEFAULTS);
      if (defaults !== NONE) {
        for (let e = snap.edgeStart[defaults]; e < snap.edgeStart[defaults + 1]; e++) {
          const value = snap.edgeTarget[e];
          if (isMutable(typeName(value))) add("default-argument", i, `.__defaults__${edgeLabel(snap, e)}`, value);
        }
      }
      const kw = edgeTo(i, KWDEFAULTS);
      if (kw !== NONE) {
        for (const { target, label } of edgesWhere(snap, kw, (l) => l.startsWith("["))) {
          if (isMutable(typeName(target))) add("default-argument", i, `.__kwdefaults__${label}`, target);
        }
      }
    } else if (t === method) {
      const self = edgeTo(i, SELF);
      if (self !== NONE && agent[self] === 0) {
        // Held by a container (a callback list, a handler dict): report the container as the holder.
        for (let k = g.revStart[i]; k < g.revStart[i + 1]; k++) {
          const holder = g.revSource[k];
          if (container[snap.type[holder]]) add("bound-method", holder, `${edgeLabel(snap, g.revEdge[k])}.__self__`, self);
        }
      }
    }
    if (isClass[i]) {
      const ns = edgeTo(i, DICT);
      if (ns !== NONE) {
        for (const { target, label } of edgesWhere(snap, ns, (l) => /^\['[^']*'\]$/.test(l) && !l.startsWith("['__"))) {
          if (MUTABLE.has(typeName(target))) add("class-attribute", i, `.${label.slice(2, -2)}`, target);
        }
      }
    }
  }
  for (let r = 0; r < snap.rootObject.length; r++) {
    const obj = snap.rootObject[r];
    if (snap.rootKind[r] === ROOT_THREAD) {
      for (let frame = obj, hops = 0; frame !== NONE && hops < 1000; frame = edgeTo(frame, F_BACK), hops++) {
        frameLocals(snap, "thread-stack", obj, frame, add);
      }
    }
    if (snap.rootKind[r] === ROOT_GARBAGE) add("garbage", obj, snap.strings.get(snap.rootLabel[r]), obj);
  }
  return out;
}

/** Per object, 1 for classes: objects of type `type` and targets of an instance's `.__class__` reference. */
function classes(snap: Snapshot): Uint8Array {
  const mark = new Uint8Array(snap.objectCount);
  const typeType = snap.types.indexOf("builtins.type");
  for (let i = 0; i < snap.objectCount; i++) if (snap.type[i] === typeType) mark[i] = 1;
  const classLabel = stringId(snap, ".__class__");
  for (let e = 0; e < snap.edgeCount; e++) {
    if (snap.edgeLabel[e] === classLabel && snap.edgeKind[e] === EDGE_SUFFIX) mark[snap.edgeTarget[e]] = 1;
  }
  return mark;
}

/** Mutable values make a default argument or class attribute shared state: containers and class instances. */
function isMutable(type: string): boolean {
  return MUTABLE.has(type) || !(type.startsWith("builtins.") || type.startsWith("types.") || type.startsWith("typing."));
}

function isContainer(type: string): boolean {
  return MUTABLE.has(type) || type === "builtins.tuple";
}

/**
 * holders(snap, kind?, { top = 50 }): references that keep objects alive in ways that are easy to miss, by kind
 * ("traceback": saved exceptions and the locals of their traceback frames; "closure": closure cells; "bound-method":
 * bound methods stored in containers and the instances they keep; "default-argument": mutable defaults;
 * "class-attribute": mutable class attributes; "thread-stack": locals of every thread's frames, with the thread's
 * name; "garbage": gc.garbage entries), each kind's rows largest held retained size first, at most `top` per kind.
 * Columns: kind, holder_type, holder_name (function, class or frame name; thread name for thread stacks),
 * holder_address, holder_path, via (how the holder reaches the held object: ".__defaults__[0]",
 * "fail file.py:3: .f_locals['payload']"), held_type, held_name, held_address, held_length, held_retained_bytes,
 * held_retained (human).
 */
export function holders(input: SeriesInput, kind?: HolderKind | HolderKind[], opts: { top?: number } = {}): aq.ColumnTable {
  return tableOf(HOLDER_COLUMNS, holderRows(input, kind, opts));
}

const HOLDER_COLUMNS = [
  "kind", "holder_type", "holder_name", "holder_address", "holder_path", "via", "held_type", "held_name", "held_address",
  "held_length", "held_retained_bytes", "held_retained",
] as const;

/** A row of the holders() table. */
export interface HolderRow {
  kind: HolderKind; holder_type: string; holder_name: string; holder_address: number; holder_path: string | null;
  via: string; held_type: string; held_name: string; held_address: number; held_length: number | null;
  held_retained_bytes: number; held_retained: string;
}

const holdsOfGraph = new WeakMap<HeapGraph, Hold[]>();

/**
 * The holds of the given kinds in the analysed snapshot, in the order found; the capture agent's own are left out.
 * The holds of every kind are found once per analysis, and those of the kinds asked for picked from them.
 */
export function findHolds(g: HeapGraph, kinds: ReadonlySet<HolderKind>): Hold[] {
  let all = holdsOfGraph.get(g);
  if (!all) {
    all = collect(g);
    holdsOfGraph.set(g, all);
  }
  return HOLDER_KINDS.every((k) => kinds.has(k)) ? all : all.filter((h) => kinds.has(h.kind));
}

/** The rows of holders(input, kind, opts), as plain objects (for callers that read every row). */
export function holderRows(input: SeriesInput, kind?: HolderKind | HolderKind[], opts: { top?: number } = {}): HolderRow[] {
  const snap = lastOf(input);
  requireFull(snap, "holders");
  const g = graphOf(snap);
  const kinds = new Set<HolderKind>(kind === undefined ? HOLDER_KINDS : Array.isArray(kind) ? kind : [kind]);
  for (const k of kinds) if (!HOLDER_KINDS.includes(k)) throw new Error(`unknown holder kind ${k}; one of ${HOLDER_KINDS.join(", ")}`);
  const paths = holderPaths(g);
  return rankedHolds(g, kinds, opts.top ?? 50).map((h) => holderRow(g, h, paths));
}

/** The holds as holders() lists them: by kind, each kind's largest held retained size first, at most `top` per kind. */
export function rankedHolds(g: HeapGraph, kinds: ReadonlySet<HolderKind>, top: number): Hold[] {
  const holds = findHolds(g, kinds);
  return HOLDER_KINDS.flatMap((k) =>
    holds.filter((h) => h.kind === k).sort((a, b) => g.retained[b.held] - g.retained[a.held]).slice(0, top),
  );
}

/** The holder's path, found once per holder: one container often holds thousands of the rows (a callback list). */
export function holderPaths(g: HeapGraph): (holder: number) => string | null {
  const found = new Map<number, string | null>();
  return (holder) => {
    let path = found.get(holder);
    if (path === undefined) found.set(holder, (path = pathExpr(g, holder)));
    return path;
  };
}

/** One row of the holders() table. */
export function holderRow(g: HeapGraph, h: Hold, holderPath: (holder: number) => string | null): HolderRow {
  const snap = g.snap;
  const thread = h.kind === "thread-stack" ? snap.threads.filter((t) => t.frame === h.holder).pop() : undefined;
  return {
    kind: h.kind,
    holder_type: snap.types[snap.type[h.holder]],
    holder_name: thread?.name ?? objectName(snap, h.holder),
    holder_address: snap.address[h.holder],
    holder_path: holderPath(h.holder),
    via: h.via,
    held_type: snap.types[snap.type[h.held]],
    held_name: objectName(snap, h.held),
    held_address: snap.address[h.held],
    held_length: objectLength(snap, h.held),
    held_retained_bytes: g.retained[h.held],
    held_retained: formatBytes(g.retained[h.held]),
  };
}
