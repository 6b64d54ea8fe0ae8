// Reference cycles: strongly connected groups of objects, the handle that keeps each alive, and parent/child
// pairs that point at each other.
import * as aq from "arquero";
import { graphOf } from "../analysis-cache.js";
import { cycles as stronglyConnected } from "../graph.js";
import { edgeLabel } from "../paths.js";
import { NONE, type Snapshot } from "../snapshot.js";
import { formatBytes } from "../units.js";
import { lastOf, pathExpr, requireFull, tableOf, type SeriesInput } from "./input.js";

/**
 * cycles(snap, { top = 20, minMembers = 2 }): strongly connected groups of objects (reference cycles), largest
 * retained size first. The group that contains modules (modules, their functions and classes refer to each other)
 * is flagged with has_module so it can be filtered out.
 * Columns: id, members, types (type mix, most frequent first: "app.Node×111, dict×111"), shallow_bytes,
 * retained_bytes, has_module, entry_address and entry_type (the member the roots reach first), path (the handle: the
 * shortest path from a root to the entry), retained (human).
 */
export function cycles(input: SeriesInput, opts: { top?: number; minMembers?: number } = {}): aq.ColumnTable {
  const snap = lastOf(input);
  requireFull(snap, "cycles");
  const g = graphOf(snap);
  const groups = stronglyConnected(g, { top: opts.top ?? 20, minMembers: opts.minMembers ?? 2 });
  const moduleGroups = new Uint8Array(g.sccCount);
  const moduleType = snap.types.indexOf("builtins.module");
  for (let i = 0; i < snap.objectCount; i++) if (snap.type[i] === moduleType) moduleGroups[g.scc[i]] = 1;
  return tableOf(
    ["id", "members", "types", "shallow_bytes", "retained_bytes", "has_module", "entry_address", "entry_type", "path", "retained"],
    groups.map((c) => ({
      id: c.id,
      members: c.members,
      types: c.types.map((t) => `${t.type.replace(/^builtins\./, "")}×${t.count}`).join(", "),
      shallow_bytes: c.shallow,
      retained_bytes: c.retained,
      has_module: moduleGroups[c.id] === 1,
      entry_address: snap.address[c.entry],
      entry_type: snap.types[snap.type[c.entry]],
      path: pathExpr(g, c.entry),
      retained: formatBytes(c.retained),
    })),
  );
}

const ATTRIBUTE_KEY = /^\['([A-Za-z_][A-Za-z0-9_]*)'\]$/;
const SEQUENCE_TYPES = new Set(["builtins.list", "builtins.tuple", "builtins.set", "builtins.dict", "collections.deque"]);

/**
 * The attribute links of an object: (target, label) for its slots and instance-dict entries (`.name`), and one level
 * into container attributes (`.children[*]`). Calls `visit` for each.
 */
function attributeLinks(snap: Snapshot, sequence: Uint8Array, obj: number, intoContainers: boolean, visit: (target: number, label: string) => void) {
  const each = (target: number, label: string) => {
    visit(target, label);
    if (!intoContainers || !sequence[snap.type[target]]) return;
    for (let e = snap.edgeStart[target]; e < snap.edgeStart[target + 1]; e++) {
      if (edgeLabel(snap, e) !== "<dict key>") visit(snap.edgeTarget[e], `${label}[*]`);
    }
  };
  for (let e = snap.edgeStart[obj]; e < snap.edgeStart[obj + 1]; e++) {
    const label = edgeLabel(snap, e);
    const target = snap.edgeTarget[e];
    if (label === ".__dict__") {
      for (let d = snap.edgeStart[target]; d < snap.edgeStart[target + 1]; d++) {
        const key = ATTRIBUTE_KEY.exec(edgeLabel(snap, d));
        if (key) each(snap.edgeTarget[d], "." + key[1]);
      }
    } else if (/^\.[A-Za-z_][A-Za-z0-9_]*$/.test(label) && label !== ".__class__") {
      each(target, label);
    }
  }
}

/**
 * bidirectionalLinks(snap, { top = 20 }): parent/child pairs of instances that point at each other (a child list
 * plus a parent back-reference, prev/next links), grouped by types and attribute names, most pairs first. Such pairs
 * form cycles that only the cyclic GC frees, and keep a whole tree alive through any one node.
 * Columns: parent_type, child_link (how the parent reaches the child, e.g. ".children[*]"), child_type, parent_link
 * (how the child reaches back, e.g. ".parent"), pairs, example_address (a parent), example_path.
 */
export function bidirectionalLinks(input: SeriesInput, opts: { top?: number } = {}): aq.ColumnTable {
  const snap = lastOf(input);
  requireFull(snap, "bidirectionalLinks");
  // Instances of classes defined in Python: not builtins, and not classes, modules or functions.
  const isInstanceType = Uint8Array.from(snap.types, (name) => (name.startsWith("builtins.") || name.startsWith("abc.") ? 0 : 1));
  const sequence = Uint8Array.from(snap.types, (name) => (SEQUENCE_TYPES.has(name) ? 1 : 0));
  const groups = new Map<string, { parentType: string; childLink: string; childType: string; parentLink: string; pairs: number; example: number }>();
  for (let a = 0; a < snap.objectCount; a++) {
    if (!isInstanceType[snap.type[a]]) continue;
    attributeLinks(snap, sequence, a, true, (b, childLink) => {
      if (b === a || !isInstanceType[snap.type[b]]) return;
      attributeLinks(snap, sequence, b, false, (back, parentLink) => {
        if (back !== a) return;
        // A direct link each way (prev/next) is seen from both ends: count it from the end with the smaller label.
        if (!childLink.endsWith("[*]") && snap.type[a] === snap.type[b] && childLink > parentLink) return;
        const key = `${snap.type[a]}|${childLink}|${snap.type[b]}|${parentLink}`;
        const group = groups.get(key);
        if (group) group.pairs++;
        else groups.set(key, { parentType: snap.types[snap.type[a]], childLink, childType: snap.types[snap.type[b]], parentLink, pairs: 1, example: a });
      });
    });
  }
  const chosen = [...groups.values()].sort((x, y) => y.pairs - x.pairs).slice(0, opts.top ?? 20);
  const g = graphOf(snap);
  return tableOf(
    ["parent_type", "child_link", "child_type", "parent_link", "pairs", "example_address", "example_path"],
    chosen.map((x) => ({
      parent_type: x.parentType,
      child_link: x.childLink,
      child_type: x.childType,
      parent_link: x.parentLink,
      pairs: x.pairs,
      example_address: snap.address[x.example],
      example_path: x.example === NONE ? null : pathExpr(g, x.example),
    })),
  );
}
