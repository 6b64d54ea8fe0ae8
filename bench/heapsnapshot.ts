// Writes a loaded snapshot as a V8 heap snapshot (.heapsnapshot, the JSON that Chrome DevTools and memlab read),
// so that a JavaScript heap analyser can be timed on the same graph as leakbook (bench/peers.ts). Every Python
// object becomes an "object" node named by its type; every reference an edge: `[i]` as an element edge, any
// other label as a property edge. Node 0 is a synthetic root with an edge to each root object.
import { closeSync, openSync, writeSync } from "node:fs";
import { EDGE_INDEX, NONE, type Snapshot } from "../src/engine/snapshot.js";

const NODE_FIELDS = ["type", "name", "id", "self_size", "edge_count", "trace_node_id", "detachedness"];
const NODE_TYPES = ["hidden", "array", "string", "object", "code", "closure", "regexp", "number", "native", "synthetic",
  "concatenated string", "sliced string", "symbol", "bigint", "object shape"];
const EDGE_FIELDS = ["type", "name_or_index", "to_node"];
const EDGE_TYPES = ["context", "element", "property", "internal", "hidden", "shortcut", "weak"];
const OBJECT = NODE_TYPES.indexOf("object");
const SYNTHETIC = NODE_TYPES.indexOf("synthetic");
const ELEMENT = EDGE_TYPES.indexOf("element");
const PROPERTY = EDGE_TYPES.indexOf("property");

/** Buffered writes of text to a file descriptor. */
class Output {
  private parts: string[] = [];
  private size = 0;
  constructor(private readonly fd: number) {}
  write(text: string): void {
    this.parts.push(text);
    this.size += text.length;
    if (this.size > 1 << 20) this.flush();
  }
  flush(): void {
    writeSync(this.fd, this.parts.join(""));
    this.parts = [];
    this.size = 0;
  }
}

export function writeHeapSnapshot(snap: Snapshot, path: string): void {
  const n = snap.objectCount;
  const strings: string[] = [""];
  const stringIndex = new Map<string, number>([["", 0]]);
  const intern = (text: string): number => {
    let k = stringIndex.get(text);
    if (k === undefined) {
      stringIndex.set(text, (k = strings.length));
      strings.push(text);
    }
    return k;
  };
  const typeName = snap.types.map((t) => intern(t));
  const edgeCount = snap.edgeStart[n] + snap.rootObject.length;
  const fd = openSync(path, "w");
  const out = new Output(fd);
  const meta = {
    node_fields: NODE_FIELDS, node_types: [NODE_TYPES, "string", "number", "number", "number", "number", "number"],
    edge_fields: EDGE_FIELDS, edge_types: [EDGE_TYPES, "string_or_number", "node"],
    trace_function_info_fields: [], trace_node_fields: [], sample_fields: [], location_fields: [],
  };
  out.write(`{"snapshot":{"meta":${JSON.stringify(meta)},"node_count":${n + 1},"edge_count":${edgeCount},"trace_function_count":0},\n"nodes":[`);
  out.write(`${SYNTHETIC},${intern("(root)")},1,0,${snap.rootObject.length},0,0`);
  for (let i = 0; i < n; i++) {
    out.write(`,\n${OBJECT},${typeName[snap.type[i]]},${2 * i + 3},${snap.size[i]},${snap.edgeStart[i + 1] - snap.edgeStart[i]},0,0`);
  }
  out.write(`],\n"edges":[`);
  const fields = NODE_FIELDS.length;
  let first = true;
  const edge = (type: number, name: number, to: number) => {
    out.write(`${first ? "" : ",\n"}${type},${name},${(to + 1) * fields}`);
    first = false;
  };
  for (let r = 0; r < snap.rootObject.length; r++) edge(ELEMENT, r + 1, snap.rootObject[r]);
  for (let e = 0; e < snap.edgeStart[n]; e++) {
    const label = snap.edgeLabel[e];
    if (snap.edgeKind[e] === EDGE_INDEX) edge(ELEMENT, label, snap.edgeTarget[e]);
    else edge(PROPERTY, intern(label === NONE ? "<referent>" : snap.strings.get(label)), snap.edgeTarget[e]);
  }
  out.write(`],\n"trace_function_infos":[],"trace_tree":[],"samples":[],"locations":[],\n"strings":[`);
  strings.forEach((s, k) => out.write(`${k === 0 ? "" : ",\n"}${JSON.stringify(s)}`));
  out.write("]}\n");
  out.flush();
  closeSync(fd);
}
