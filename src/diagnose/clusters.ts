// Findings from leak clusters: one per holder that keeps what the series gained, with the findings of the other
// steps merged into the cluster they explain. A mechanism (a traceback, a bound method, a default argument)
// names the cause only when what it holds is part of the growth; otherwise it is a side note. Rules:
// docs/diagnosis.md "Leak clusters".
import { retainedFigures } from "../engine/analysis-cache.js";
import { edgeLabel, findObject, isClassObject } from "../engine/paths.js";
import { clusterSeries, sampleEntries, type Cluster } from "../queries/clusters.js";
import { objectName } from "../queries/input.js";
import { NONE, type Snapshot } from "../engine/snapshot.js";
import { formatAddress, formatBytes, formatCount } from "../common/units.js";
import { HIDDEN_HOLDERS, recognise, type CatalogueEntry, type HiddenHolder, type HolderView } from "./catalogue.js";
import { dominates, foreignModuleOf, heldByAgent, isLibraryName, pathNoteOf, pathObjects, pathOf, rootModule, type Context } from "./context.js";
import { MIN_GROWTH_BYTES, MIN_GROWTH_OBJECTS, deltaOf, isRising, keptTrend, signed, signedCount, trendOf, type Candidate, type Trend } from "./rules.js";
import type { ClusterSummary, Finding, FindingKind } from "./types.js";

/** Kinds that say why a holder keeps its growth, most specific first; they name a cluster when they explain it. */
const MECHANISMS: FindingKind[] = [
  "traceback-retention", "bound-method-retention", "closure-retention", "default-argument", "class-attribute",
  "unbounded-cache", "bidirectional-tree", "cycle", "string-growth",
];
/** Mechanisms that can hold the holder itself (a default argument or class attribute that is the growing dict). */
const HOLDING_MECHANISMS: FindingKind[] = ["default-argument", "class-attribute", "unbounded-cache", "closure-retention"];
/** Kinds that only say where: a cluster absorbs them without taking their kind. */
const PLACES: FindingKind[] = ["growing-container", "long-lived-large"];
/** Dominator steps between a finding's object and a cluster's holder for the finding to count as about it. */
const REACH = 8;

const CONTAINER_TYPES = new Set([
  "builtins.dict", "builtins.list", "builtins.set", "builtins.frozenset", "collections.deque", "collections.OrderedDict",
  "collections.defaultdict", "collections.Counter", "builtins.tuple",
]);
const WEAK_OWNERS = new Set(["_weakrefset.WeakSet", "weakref.WeakValueDictionary", "weakref.WeakKeyDictionary"]);
const WEAKREF_TYPES = new Set([
  "weakref.ReferenceType", "builtins.weakref", "weakref.KeyedRef", "weakref.WeakMethod", "weakref.ProxyType",
  "weakref.CallableProxyType", "builtins.weakproxy", "builtins.weakcallableproxy",
]);
/** Weak references of a weak container read to find who keeps its referents. */
const WEAK_SAMPLE = 200;
/**
 * Types whose instances hold the program's data for it (containers, caches, thread-locals, contexts): whose the
 * data is is decided further up.
 */
const GENERIC_OWNERS = new Set([
  "functools._lru_cache_wrapper", "functools.partial", "collections.OrderedDict", "collections.defaultdict",
  "collections.deque", "collections.Counter", "_thread._local", "_thread._localdummy", "_threading_local.local",
  "_contextvars.Context", "_contextvars.ContextVar", "hamt", "hamt_bitmap_node", "hamt_array_node",
  "hamt_collision_node", ...WEAK_OWNERS,
]);

const NO_HOLDER_REASON =
  "No object the capture sees keeps these: they are held from C code (atexit callbacks, a C extension, a signal " +
  "handler) or by an object CPython does not traverse (such as the buffer inside io.StringIO).";
const weakReason = (strong: string | null) =>
  "A weak container keeps nothing alive: it grows because its referents are kept by a strong holder " +
  (strong ? `(${strong}); fix that holder, not this.` : "elsewhere (see the findings above); fix that holder, not this.");

interface Owner {
  /** The object whose attribute or slot the holder is (a module, class or instance), or NONE. */
  object: number;
  /** Its type name; a class's own qualified name; "builtins.module" for a module. */
  type: string | null;
  name: string;
  /** The attribute of the owner the holder sits in (or under). */
  attribute: string | null;
}

/**
 * Merges the steps' candidates into clusters. Returns the candidates to rank: one per growing cluster (with the
 * kinds that explain it), the candidates no cluster explains (mechanisms capped at low when others explain the
 * growth), and an object-growth candidate only for growth no visible holder keeps.
 */
export function clusterCandidates(ctx: Context, candidates: Candidate[]): Candidate[] {
  const g = ctx.graph;
  if (!g || !ctx.full || ctx.snaps.length < 2) return candidates;
  const last = ctx.last;
  const n = last.objectCount;
  const analysis = clusterSeries(ctx.snaps);
  const byHolder = new Map<number, Cluster>();
  for (const c of analysis.clusters) if (c.holder >= 0 && !heldByAgent(ctx, c.holder)) byHolder.set(c.holder, c);
  // A finding is about a cluster when its object is one of the new objects, the holder, or within REACH dominator
  // steps above or below the holder (the nearest holder below it first: an lru_cache wrapper above its storage).
  const above = new Map<number, { cluster: Cluster; steps: number }>();
  for (const c of byHolder.values()) {
    for (let cur = g.idom[c.holder], k = 1; k <= REACH && cur < n; k++, cur = g.idom[cur]) {
      const seen = above.get(cur);
      if (!seen || seen.steps > k) above.set(cur, { cluster: c, steps: k });
    }
  }
  const clusterOf = (o: number): Cluster | undefined => {
    if (o < 0) return undefined;
    const h = analysis.holderOf(o);
    if (h >= 0 && byHolder.has(h)) return byHolder.get(h);
    const below = above.get(o);
    if (below) return below.cluster;
    for (let cur = o, k = 0; k < REACH && cur < n; k++, cur = g.idom[cur]) if (byHolder.has(cur)) return byHolder.get(cur);
    return undefined;
  };

  const judged = new Map<Cluster, ClusterJudgement>();
  for (const c of byHolder.values()) judged.set(c, judge(ctx, c));
  // Clusters that become findings: growing ones, and bounded or weak ones (which explain what looks like growth).
  const reported = (c: Cluster) => {
    const j = judged.get(c)!;
    return j.grows || j.bounded || j.weak;
  };

  // A mechanism explains a cluster only when what it holds is part of what the holder keeps (one of its new
  // objects, or an older entry it dominates) or, for the kinds that can, is the holder itself; a place (a growing
  // container, a long-lived object) is about it when near the holder.
  const explains = (cand: Candidate, c: Cluster): boolean => {
    if (PLACES.includes(cand.kind)) return true;
    if (!MECHANISMS.includes(cand.kind)) return false;
    if (cand.object === c.holder) return HOLDING_MECHANISMS.includes(cand.kind);
    if (analysis.fresh[cand.object] === 1 && analysis.holderOf(cand.object) === c.holder) return true;
    return dominates(ctx, c.holder, cand.object);
  };
  const absorbed = new Map<Cluster, Candidate[]>();
  const rest: Candidate[] = [];
  for (const cand of candidates) {
    const c = clusterOf(cand.object);
    if (c && reported(c) && explains(cand, c)) (absorbed.get(c) ?? absorbed.set(c, []).get(c)!).push(cand);
    else rest.push(cand);
  }
  const out: Candidate[] = [];
  // A registry spread over several containers of one owner (a mock's call lists) is one finding: its largest.
  const registries = new Set<string>();
  for (const [c, j] of judged) {
    if (!reported(c)) continue;
    if (j.entry && j.owner.object !== NONE) {
      const key = `${j.entry.id}|${j.owner.object}`;
      if (registries.has(key)) continue;
      registries.add(key);
    }
    const strong = j.weak ? referentsHolder(ctx, c.holder, (o) => {
      for (let cur = o, k = 0; k < 64 && cur < n; k++, cur = g.idom[cur]) {
        const held = byHolder.get(analysis.holderOf(cur));
        if (held && held !== c && judged.get(held)!.grows) return held.holder;
      }
      return NONE;
    }) : null;
    out.push(clusterCandidate(ctx, c, j, absorbed.get(c) ?? [], analysis.fresh, strong));
  }

  const explainsGrowth = out.some((c) => !c.severity);
  const explainsAny = out.length > 0;
  const unheld = analysis.clusters.find((c) => c.holder < 0);
  const unheldFinding = unheld ? unheldCandidate(ctx, unheld, analysis.fresh) : null;
  for (const cand of rest) {
    if (cand.kind === "object-growth") {
      // A type's growth is the symptom the clusters explain (their members list it); it stays only when no
      // cluster is reported at all.
      if (!explainsAny && !unheldFinding) out.push(cand);
    } else if (explainsGrowth && MECHANISMS.includes(cand.kind) && !cand.severity) {
      out.push({ ...cand, severity: "low" });
    } else if (PLACES.includes(cand.kind) && cand.object >= 0 && cand.internal === undefined) {
      // A container no cluster claims is judged as a cluster's holder would be: inside a library's objects, it
      // ranks after the program's own holders (an identifier cache that grows with the tables the program adds).
      out.push({ ...cand, internal: isInternal(ctx, cand.object, ownerOf(ctx, cand.object)) });
    } else out.push(cand);
  }
  if (unheldFinding) out.push(unheldFinding);
  return out;
}

interface ClusterJudgement {
  grows: boolean;
  /** At or below a recorded bound (deque maxlen), or a registry bounded by construction. */
  bounded: boolean;
  /** The holder is a weak container (or its data): a symptom. */
  weak: boolean;
  owner: Owner;
  /** Library internals the program does not own. */
  internal: boolean;
  entry: CatalogueEntry | null;
  /** The cluster's new objects by type, the program's own classes first. */
  members: ClusterSummary["members"];
  /** Most of its weak references are dead: a weak registry that never prunes. */
  deadRefs: boolean;
}

function judge(ctx: Context, c: Cluster): ClusterJudgement {
  const last = ctx.last;
  const h = c.holder;
  const holderType = last.types[last.type[h]];
  const owner = ownerOf(ctx, h);
  const members = membersOf(ctx, c);
  const view: HolderView = {
    holderType, ownerType: owner.type, ownerName: owner.name, attribute: owner.attribute, path: pathOf(ctx, h) ?? "",
    memberTypes: members.map((m) => m.type), entryTypes: outermostTypes(ctx, c),
  };
  const entry = recognise(view);
  const dBytes = deltaOf(c.ownSizes);
  const dCount = deltaOf(c.ownCounts);
  const significant = dBytes >= MIN_GROWTH_BYTES || dCount >= MIN_GROWTH_OBJECTS;
  const rising = isRising(clusterTrend(c));
  const bound = boundOf(last, h);
  const length = c.lengths[c.lengths.length - 1];
  const bounded = (entry?.bounded ?? false) || (bound !== null && length !== null && length <= bound);
  const deadRefs = mostlyDead(last, h);
  const weak = WEAK_OWNERS.has(holderType) || (owner.type !== null && WEAK_OWNERS.has(owner.type)) ||
    (view.memberTypes.length > 0 && WEAKREF_TYPES.has(view.memberTypes[0]) || mostlyWeak(last, h)) && !deadRefs;
  return {
    grows: rising && significant && !bounded && !weak, bounded: bounded && significant, weak: weak && rising && significant,
    owner, internal: isInternal(ctx, h, owner), entry, members, deadRefs,
  };
}

/**
 * At least half of the container's entries (its references other than dict keys) are weak references: a weak
 * registry by hand, such as the dict of weak references to a class's subclasses that CPython 3.11 keeps for
 * type.__subclasses__().
 */
function mostlyWeak(snap: Snapshot, h: number): boolean {
  let entries = 0;
  let weak = 0;
  for (let e = snap.edgeStart[h]; e < snap.edgeStart[h + 1]; e++) {
    if (edgeLabel(snap, e) === "<dict key>") continue;
    entries++;
    if (WEAKREF_TYPES.has(snap.types[snap.type[snap.edgeTarget[e]]])) weak++;
  }
  return entries > 0 && 2 * weak >= entries;
}

/** The types of the cluster's outermost new objects, commonest first (ties by type id). */
function outermostTypes(ctx: Context, c: Cluster): string[] {
  return [...c.topTypes.entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0]).map(([t]) => ctx.last.types[t]);
}

/**
 * Most of the weak references among the container's entries are dead (their referent is gone: the capture records
 * none): a hand-made weak registry that never prunes, whose dead references are the growth, not a symptom.
 */
function mostlyDead(snap: Snapshot, h: number): boolean {
  let refs = 0;
  let dead = 0;
  for (let e = snap.edgeStart[h]; e < snap.edgeStart[h + 1]; e++) {
    const w = snap.edgeTarget[e];
    if (!WEAKREF_TYPES.has(snap.types[snap.type[w]])) continue;
    refs++;
    if (objectName(snap, w) === "") dead++;
  }
  return refs > 0 && 2 * dead > refs;
}

/** How a cluster's holder grows, by what it keeps of its own (see keptTrend). */
const clusterTrend = (c: Cluster): Trend => keptTrend(c.ownCounts, c.ownSizes);

/** The recorded bound of a container (a deque's maxlen, a queue's maxsize), or null. */
function boundOf(snap: Snapshot, i: number): number | null {
  return snap.bounds.get(i) ?? null;
}

/** An attribute or key label as a name: `.loggerDict` -> "loggerDict", `['k']` -> "k"; null for other labels. */
function labelName(label: string): string | null {
  const m = /^\.([A-Za-z_][A-Za-z0-9_]*)$/.exec(label) ?? /^\['(.*)'\]$/.exec(label);
  return m ? m[1] : null;
}

/**
 * The module, class or instance the holder belongs to, up its shortest path past namespace dicts and builtin
 * containers (`session.hooks['response']` belongs to the Session, as its attribute `hooks`).
 */
function ownerOf(ctx: Context, h: number): Owner {
  const g = ctx.graph!;
  const snap = ctx.last;
  const chain = pathObjects(ctx, h);
  let attribute: string | null = g.bfsEdge[h] === NONE ? null : labelName(edgeLabel(snap, g.bfsEdge[h]));
  for (let k = chain.length - 2; k >= 0; k--) {
    const o = chain[k];
    const type = snap.types[snap.type[o]];
    const reachedAsNamespace = g.bfsEdge[o] !== NONE && edgeLabel(snap, g.bfsEdge[o]) === ".__dict__";
    if (type === "builtins.module") return { object: o, type, name: objectName(snap, o), attribute };
    if (isClassObject(snap, o)) return { object: o, type: objectName(snap, o) || type, name: objectName(snap, o), attribute };
    // A mappingproxy is a read-only view of the dict below it (singledispatch's `.registry`): it owns nothing.
    if (!reachedAsNamespace && !CONTAINER_TYPES.has(type) && type !== "builtins.mappingproxy") {
      const named = type === "functools._lru_cache_wrapper" || type === "builtins.function";
      return { object: o, type, name: named ? objectName(snap, o) : "", attribute };
    }
    // Past a namespace or a container: the attribute is the one the next object up keeps it in.
    const name = g.bfsEdge[o] === NONE ? null : labelName(edgeLabel(snap, g.bfsEdge[o]));
    if (!reachedAsNamespace && name !== null) attribute = name;
  }
  return { object: NONE, type: null, name: "", attribute };
}

/**
 * The holder belongs to a library's internals: its nearest decisive owner up the shortest path (a module, a class,
 * an instance of a type that is not a generic container) is library code, or, when none decides, the path starts
 * at a library module.
 */
function isInternal(ctx: Context, h: number, owner: Owner): boolean {
  const snap = ctx.last;
  const chain = pathObjects(ctx, h);
  for (let k = chain.length - 2; k >= 0; k--) {
    const o = chain[k];
    const type = snap.types[snap.type[o]];
    if (type === "builtins.module") return isLibraryModule(ctx, objectName(snap, o));
    if (isClassObject(snap, o)) return isLibraryName(ctx, objectName(snap, o));
    if (type.startsWith("builtins.") || GENERIC_OWNERS.has(type)) continue;
    return isLibraryName(ctx, type);
  }
  const module = rootModule(ctx, h);
  return module !== null && isLibraryModule(ctx, module) && owner.object !== NONE;
}

function isLibraryModule(ctx: Context, module: string): boolean {
  return ctx.libraryModules.has(module) || ctx.thirdPartyModules.has(module);
}

/** The cluster's new objects by type, the program's own classes first, then by count. */
function membersOf(ctx: Context, c: Cluster): ClusterSummary["members"] {
  const last = ctx.last;
  const rows = [...c.memberTypes.entries()].map(([t, [count, bytes]]) => ({ type: last.types[t], count, bytes }));
  const own = (type: string) => (foreignModuleOf(ctx, type) === null ? 0 : 1);
  rows.sort((a, b) => own(a.type) - own(b.type) || b.count - a.count || (a.type < b.type ? -1 : 1));
  return rows.slice(0, 6);
}

/**
 * The strong holder of a weak container's referents: the capture records each weak reference's referent address
 * (it has no edge to it), so a sample of them is looked up and the commonest growing holder above them is named.
 */
function referentsHolder(ctx: Context, h: number, holderAbove: (o: number) => number): string | null {
  const snap = ctx.last;
  const votes = new Map<number, number>();
  let read = 0;
  const scan = (o: number) => {
    for (let e = snap.edgeStart[o]; e < snap.edgeStart[o + 1] && read < WEAK_SAMPLE; e++) {
      const w = snap.edgeTarget[e];
      if (!WEAKREF_TYPES.has(snap.types[snap.type[w]])) continue;
      const text = objectName(snap, w);
      if (!/^0x[0-9a-f]+$/.test(text)) continue;
      read++;
      const referent = findObject(snap, parseInt(text, 16));
      const holder = referent >= 0 ? holderAbove(referent) : NONE;
      if (holder !== NONE) votes.set(holder, (votes.get(holder) ?? 0) + 1);
    }
  };
  scan(h);
  // A WeakSet or weak dictionary keeps its references in `.data`.
  for (let e = snap.edgeStart[h]; e < snap.edgeStart[h + 1]; e++) if (edgeLabel(snap, e) === ".data") scan(snap.edgeTarget[e]);
  const best = [...votes.entries()].sort((a, b) => b[1] - a[1])[0];
  return best ? pathOf(ctx, best[0]) : null;
}

function clusterCandidate(ctx: Context, c: Cluster, j: ClusterJudgement, merged: Candidate[], fresh: Uint8Array, strong: string | null): Candidate {
  const last = ctx.last;
  const h = c.holder;
  const holderType = last.types[last.type[h]];
  // A library's own machinery (internal) says nothing of why the program's holder grows.
  const mechanism = MECHANISMS.map((k) => merged.find((m) => m.kind === k && !m.internal)).find((m) => m !== undefined);
  const place = PLACES.map((k) => merged.find((m) => m.kind === k)).find((m) => m !== undefined);
  const { members } = j;
  const libraryLeak = j.entry !== null && !j.entry.bounded && j.internal;
  const structural: FindingKind = CONTAINER_TYPES.has(holderType) || last.length[h] !== NONE ? "growing-container" : "long-lived-large";
  const kind: FindingKind = libraryLeak ? "library-leak" : mechanism?.kind ?? structural;
  const dBytes = deltaOf(c.ownSizes);
  const dCount = deltaOf(c.ownCounts);
  const intervals = c.retainedSizes.length - 1;
  const bytesPerInterval = `${dBytes >= 0 ? "+" : ""}${formatBytes(dBytes / intervals)}`;
  // A buffer that only gets longer gains bytes, not objects: "+0 objects" would say nothing.
  const perInterval = Math.round(dCount / intervals) === 0
    ? `${bytesPerInterval} per interval`
    : `${signedCount(dCount / intervals, "object")} (${formatBytes(dBytes / intervals)}) per interval`;
  const memberText = members.slice(0, 3).map((m) => `${formatCount(m.count)} ${m.type}`).join(", ");
  const lengths = c.lengths;
  const dLength = deltaOf(lengths);
  const holderWord = holderType.startsWith("builtins.") ? holderType.slice(9) : holderType;
  const grew = dLength > 0
    ? `${holderWord} grew ${signedCount(dLength, "entry", "entries")} to ${formatCount(lengths[lengths.length - 1] ?? 0)}`
    : `${holderWord} keeps more`;
  let title: string;
  if (libraryLeak) title = `${j.entry!.registry} grows: ${perInterval}; new: ${memberText}`;
  else if (mechanism) title = `${mechanism.title}; the holder gains ${perInterval}`;
  else title = `${grew}, ${perInterval}; new: ${memberText}`;
  if (j.bounded) title = `${grew} but stays within its bound (${j.entry ? j.entry.registry : `maxlen ${boundOf(last, h)}`}): not a leak`;
  if (j.weak) title = `weak ${holderWord} grows (${perInterval}): a symptom, its referents are kept ${strong ? `by ${strong}` : "elsewhere"}`;
  // A holder no root reaches may be the hidden part of a long-lived object that keeps it out of the collector's
  // sight (the list of pieces inside an io.StringIO): the finding is laid at that object.
  const hidden = unreachable(ctx, h) ? hiddenHolder(ctx, fresh, holderType) : null;
  if (hidden) title = `${title}; likely the ${hidden.about.part} of a long-lived ${hidden.about.type}`;
  // A namespace "grows" when one of its names is rebound, each time, to a new object that keeps more: the name is
  // the holder the program can change.
  const rebound = !mechanism && !catalogueOf(j) && !hidden ? reboundEntry(ctx, c, fresh) : null;
  if (rebound) {
    title = `${rebound.name} is rebound to a new ${last.types[last.type[rebound.object]]} that keeps more each time: ` +
      `${perInterval}; new: ${memberText}`;
  }
  const path = mechanism?.kind === "string-growth" ? mechanism.path : pathOf(ctx, hidden ? hidden.object : rebound ? rebound.object : h);
  const reason = j.weak ? weakReason(strong) : hidden ? `${pathNoteOf(ctx, h)}. ${hiddenReason(hidden.about)}` : pathNoteOf(ctx, h);
  const catalogued = catalogueOf(j);
  const best = mechanism ?? place;
  return {
    kind,
    title,
    type: mechanism?.type ?? entryType(ctx, c, members) ?? holderType,
    path,
    evidence: {
      ...(best?.evidence ?? {}),
      holder_type: holderType, lengths, retained_sizes: c.retainedSizes, retained_counts: c.retainedCounts,
      new_objects: c.newObjects, new_bytes: c.newBytes, retained_growth_bytes: dBytes,
    },
    step: best?.step ?? "types",
    object: h,
    trend: clusterTrend(c),
    growthBytes: dBytes,
    significant: true,
    library: false,
    internal: j.internal && !libraryLeak,
    severity: j.bounded ? "info" : j.weak ? "low" : undefined,
    extra: {
      sample: sampleOf(ctx, c),
      cluster: {
        new_objects: c.newObjects, new_bytes: c.newBytes, retained_sizes: c.retainedSizes, retained_counts: c.retainedCounts,
        members, entries: sampleEntries(last, h, fresh),
      },
      ...(reason ? { reason } : {}),
      ...(catalogued ? { catalogue: { id: catalogued.id, registry: catalogued.registry, fed_by: catalogued.fedBy } } : {}),
    },
    remedy: catalogued ? catalogued.remedy
      : hidden ? hidden.about.remedy
      : rebound ? REBOUND_REMEDY
      : j.deadRefs ? DEAD_REFS_REMEDY
      : kind === "class-attribute" && neverInstantiated(ctx, j.owner) ? CLASS_REGISTRY_REMEDY
      : mechanism?.remedy,
  };
}

/**
 * What the holder gains, as one type: the program's own class among the new objects when there is one, else the
 * commonest type of the outermost new objects (the entries themselves: TimerHandles, not the strings inside them),
 * a class before builtins.
 */
function entryType(ctx: Context, c: Cluster, members: ClusterSummary["members"]): string | null {
  if (members.length > 0 && foreignModuleOf(ctx, members[0].type) === null) return members[0].type;
  // A dict's keys are outermost too: a class among them says more than the builtin keys beside it.
  const outermost = outermostTypes(ctx, c);
  return outermost.find((t) => !t.startsWith("builtins.")) ?? outermost[0] ?? members[0]?.type ?? null;
}

/** The cluster's sample member, to follow with `leakbook paths`: its address, type and path. */
function sampleOf(ctx: Context, c: Cluster): Finding["sample"] {
  if (c.sample < 0) return null;
  const last = ctx.last;
  return { address: formatAddress(last.address[c.sample]), type: last.types[last.type[c.sample]], path: pathOf(ctx, c.sample) };
}

const CLASS_REGISTRY_REMEDY =
  "The class is used as a registry (it has no instances): bound it (evict old entries, collections.deque(maxlen=N)), " +
  "remove entries when their work is done, or hold them weakly (weakref.WeakValueDictionary / WeakSet).";

/** The owner is a class none of whose instances is in the snapshot. */
function neverInstantiated(ctx: Context, owner: Owner): boolean {
  return owner.object !== NONE && isClassObject(ctx.last, owner.object) && owner.type !== null && !ctx.last.types.includes(owner.type);
}

/**
 * Growth no visible holder keeps (held from C, or by an object CPython does not traverse): judged by the objects no
 * root reaches in every snapshot, named by the outermost new types, and laid at a long-lived object of a type known
 * to keep references out of sight (HIDDEN_HOLDERS) when there is one and no registry of the catalogue explains it.
 */
function unheldCandidate(ctx: Context, c: Cluster, fresh: Uint8Array): Candidate | null {
  const counts = ctx.snaps.map((s) => retainedFigures(s).unreachable);
  const bytes = ctx.snaps.map((s) => retainedFigures(s).unreachableBytes);
  const trend = trendOf(counts);
  const significant = deltaOf(counts) >= MIN_GROWTH_OBJECTS || deltaOf(bytes) >= MIN_GROWTH_BYTES;
  if (!isRising(trend) || !significant) return null;
  const last = ctx.last;
  const tops = [...c.topTypes.entries()].sort((a, b) => b[1] - a[1]).map(([t, count]) => ({ type: last.types[t], count }));
  const members = membersOf(ctx, c);
  const view: HolderView = {
    holderType: null, ownerType: null, ownerName: "", attribute: null, path: "", memberTypes: tops.map((t) => t.type),
    entryTypes: tops.map((t) => t.type),
  };
  const entry = recognise(view);
  const hidden = entry ? null : hiddenHolder(ctx, fresh, null);
  const parts = hiddenParts(ctx, fresh, tops[0]);
  const kept = `${formatCount(c.newObjects)} new objects that no visible holder keeps (${signed(deltaOf(counts))} unreachable ` +
    `from the roots over the series); outermost: ${tops.slice(0, 3).map((t) => `${formatCount(t.count)} ${t.type}`).join(", ")}`;
  return {
    kind: "object-growth",
    title: hidden ? `${kept}; likely kept by the ${hidden.about.part} of a long-lived ${hidden.about.type}` : kept,
    type: tops[0]?.type ?? null,
    path: hidden ? pathOf(ctx, hidden.object) : null,
    evidence: { unreachable_counts: counts, unreachable_bytes: bytes, new_objects: c.newObjects, new_bytes: c.newBytes },
    step: "types",
    object: hidden ? hidden.object : -1,
    trend,
    growthBytes: deltaOf(bytes),
    significant: true,
    library: false,
    extra: {
      sample: sampleOf(ctx, c),
      cluster: { new_objects: c.newObjects, new_bytes: c.newBytes, retained_sizes: bytes, retained_counts: counts, members, entries: [] },
      reason: parts
        ? `These are the ${parts.about.part} of ${formatCount(parts.count)} new ${parts.about.type} objects, which do not ` +
          "report them to the garbage collector: they grow with those objects, kept by the holders the other findings name."
        : hidden ? `${NO_HOLDER_REASON} ${hiddenReason(hidden.about)}` : NO_HOLDER_REASON,
      ...(entry ? { catalogue: { id: entry.id, registry: entry.registry, fed_by: entry.fedBy } } : {}),
    },
    remedy: entry?.remedy ?? hidden?.about.remedy,
    ...(parts ? { severity: "low" as const } : {}),
  };
}

/**
 * The unheld growth is the hidden parts of new objects (one empty list of pieces in each new io.StringIO): at least
 * as many new objects of a HIDDEN_HOLDERS type whose hidden part is of the commonest outermost type.
 */
function hiddenParts(ctx: Context, fresh: Uint8Array, top: { type: string; count: number } | undefined): { about: HiddenHolder; count: number } | null {
  if (!top) return null;
  const last = ctx.last;
  for (const about of HIDDEN_HOLDERS) {
    if (about.keptAs !== top.type) continue;
    const t = last.types.indexOf(about.type);
    if (t < 0) continue;
    let count = 0;
    for (let i = 0; i < last.objectCount; i++) if (last.type[i] === t && fresh[i] === 1) count++;
    if (count >= top.count) return { about, count };
  }
  return null;
}

const catalogueOf = (j: ClusterJudgement) => (j.entry !== null && !j.entry.bounded ? j.entry : null);

const DEAD_REFS_REMEDY =
  "Prune the dead references: a weakref.ref whose object is gone stays in the container until it is removed. Use " +
  "weakref.WeakSet or weakref.WeakValueDictionary, which drop dead entries themselves, or give each reference a " +
  "callback that removes it (weakref.ref(obj, registry.remove)).";

const REBOUND_REMEDY =
  "The name is given a new, larger object each time, built from the one before (x = x.new_child(...), " +
  "x = x + [item], x = {**x, key: value}): keep the base as it is and derive the per-request value in a local " +
  "(or a contextvars.ContextVar), or bound what the chain accumulates.";

/**
 * The entry of a namespace holder (a module's or instance's `__dict__`) that is new and keeps at least half of the
 * cluster's new objects: the name rebound to a bigger object each time (`settings = settings.new_child(...)`).
 */
function reboundEntry(ctx: Context, c: Cluster, fresh: Uint8Array): { object: number; name: string } | null {
  const g = ctx.graph!;
  const snap = ctx.last;
  const h = c.holder;
  if (g.bfsEdge[h] === NONE || edgeLabel(snap, g.bfsEdge[h]) !== ".__dict__") return null;
  for (let e = snap.edgeStart[h]; e < snap.edgeStart[h + 1]; e++) {
    const t = snap.edgeTarget[e];
    if (fresh[t] !== 1 || g.idom[t] !== h || 2 * g.retainedCount[t] < c.newObjects) continue;
    const name = labelName(edgeLabel(snap, e));
    if (name !== null) return { object: t, name };
  }
  return null;
}

/** No root the capture sees reaches the object (its path starts at an unreachable object). */
function unreachable(ctx: Context, i: number): boolean {
  return ctx.graph!.extraRoots.includes(pathObjects(ctx, i)[0]);
}

const hiddenReason = (h: HiddenHolder) =>
  `A ${h.type} does not report the references of its ${h.part} to the garbage collector (it keeps ${h.keeps}), ` +
  "and this one has lived through the whole series.";

/**
 * The first object of the last snapshot, of a HIDDEN_HOLDERS type whose hidden part is of type `keptAs` (null: no
 * Python object), that was there at the start and a root reaches.
 */
function hiddenHolder(ctx: Context, fresh: Uint8Array, keptAs: string | null): { object: number; about: HiddenHolder } | null {
  const last = ctx.last;
  const byType = new Map<number, HiddenHolder>();
  for (const h of HIDDEN_HOLDERS) {
    if (h.keptAs !== keptAs) continue;
    const t = last.types.indexOf(h.type);
    if (t >= 0) byType.set(t, h);
  }
  if (byType.size === 0) return null;
  for (let i = 0; i < last.objectCount; i++) {
    const about = byType.get(last.type[i]);
    if (about && fresh[i] === 0 && !unreachable(ctx, i) && !heldByAgent(ctx, i)) return { object: i, about };
  }
  return null;
}
