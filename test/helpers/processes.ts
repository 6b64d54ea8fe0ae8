// Snapshots of two real Python processes written into one folder, and a copy of a snapshot that claims to come
// from another process with the same pid (a reused pid), for the tests of process selection.
import { copyFileSync, readFileSync, writeFileSync } from "node:fs";
import { crc32 } from "node:zlib";
import { runPythonJson } from "./python.js";

/** Each round adds 30 RouteStats to a module-level dict, then captures; the last round's instances are reported. */
const ROUNDS_SCRIPT = `
import json, os, sys
import leakbook

class RouteStats:
    def __init__(self, route):
        self.route = route
        self.hits = list(range(20))

ROUTES = {}
files = []
for round in range(3):
    for k in range(30):
        route = '/r%d/%d' % (round, k)
        ROUTES[route] = RouteStats(route)
    files.append(leakbook.snapshot(os.path.join(sys.argv[1], '%d-%d.lbsnap' % (os.getpid(), round))))
last = [id(v) for k, v in ROUTES.items() if k.startswith('/r2/')]
print(json.dumps({'pid': os.getpid(), 'files': files, 'last_round': last}))
`;

export interface CapturedProcess {
  pid: number;
  /** Its three snapshot files, in capture order. */
  files: string[];
  /** id() of the RouteStats the last round created. */
  last_round: number[];
}

/** Runs the rounds program in `dir` once per process asked for; the last one run owns the newest snapshot. */
export function captureProcesses(dir: string, count: number): CapturedProcess[] {
  const processes: CapturedProcess[] = [];
  for (let n = 0; n < count; n++) processes.push(runPythonJson<CapturedProcess>(ROUNDS_SCRIPT, dir));
  return processes;
}

/**
 * Copies `source` to `target` with a process_start 1000 s away in its header (same pid: as if the pid were reused).
 * The header keeps its length, so the sections stay where they are; the trailer's CRC is recomputed.
 */
export function copyAsReusedPid(source: string, target: string): void {
  copyFileSync(source, target);
  const bytes = new Uint8Array(readFileSync(target));
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getUint32(12, true);
  // latin1: one character per byte, so a match's index is a byte offset.
  const header = Buffer.from(bytes.subarray(16, 16 + headerLength)).toString("latin1");
  const found = /"process_start": ?(\d{10})/.exec(header);
  if (!found) throw new Error(`${source}: no process_start in the header`);
  // The thousands digit of the start time, changed in place: the same byte count, another process.
  const at = 16 + found.index + found[0].length - 4;
  bytes[at] = bytes[at] === 0x39 ? 0x38 : bytes[at] + 1;
  view.setUint32(bytes.length - 16, crc32(bytes.subarray(0, bytes.length - 24)), true);
  writeFileSync(target, bytes);
}
