// A real Python program whose names carry every sequence a terminal or an XML parser must not get raw: a class whose
// __qualname__ and __module__ hold escape sequences, a class and module name with NUL and a lone surrogate, a
// function, a thread and dict keys named the same way, and snapshot files whose names hold ESC, BEL, U+202E and a
// newline. It grows a dict of such keys over four snapshots, so that the diagnosis has findings to name.
import { runPythonJson, tempDir } from "./python.js";

/**
 * Clear screen (CSI 2J), window title (OSC 0), a link (OSC 8), BEL, CSI as one C1 character, DEL, the bidi override,
 * embedding, isolates and marks, a newline and a carriage return, and markup characters.
 */
export const EVIL = "\x1b[2J\x1b]0;owned\x07\x1b]8;;http://evil.example/\x07click\x1b]8;;\x07\x07\x9b31m\x7f" +
  "\u202eevil\u202a\u2066\u2069\u200e\u200f\u061c\nnext line\rback<&>\"'";

/** Characters no terminal output may carry raw (newline aside, which ends lines): see src/common/escape.ts. */
export const TERMINAL_UNSAFE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

const PROGRAM = String.raw`
import json, os, sys, threading
import leakbook

OUT = sys.argv[1]
EVIL = ${JSON.stringify(EVIL)}

Evil = type("Evil", (), {})
Evil.__qualname__ = "Evil" + EVIL
Evil.__module__ = "mod" + EVIL
Nul = type("Nul", (), {})
Nul.__qualname__ = "Nul\x00Class\ud800"
Nul.__module__ = "m\x00d"

def handler():
    return None
handler.__qualname__ = "handler" + EVIL
HANDLERS = [handler]

CACHE = {}
HELD = []
ready = threading.Event()
stop = threading.Event()
LOCAL = []
def work():
    local_evil = Evil()
    LOCAL.append(id(local_evil))
    ready.set()
    stop.wait()
worker = threading.Thread(target=work, name="worker" + EVIL, daemon=True)
worker.start()
ready.wait()

files = []
for step in range(4):
    for k in range(400):
        CACHE[EVIL + str(step) + ":" + str(k)] = Evil()
        HELD.append(Nul())
    HELD.append(EVIL * (step + 1))
    files.append(leakbook.snapshot(os.path.join(OUT, "snap\x1b]0;t\x07\u202e\n-%d.lbsnap" % step)))
stop.set()
worker.join()
print(json.dumps({"files": files, "dir": OUT, "qualname": Evil.__qualname__, "type": Evil.__module__ + "." + Evil.__qualname__,
                  "instance": id(next(iter(CACHE.values()))), "local": LOCAL[0]}))
`;

export interface HostileCapture {
  dir: string;
  files: string[];
  /** Evil's __qualname__ and its full type name (module.qualname). */
  qualname: string;
  type: string;
  /** id() of one Evil instance in the cache, and of the one a local variable of the thread holds. */
  instance: number;
  local: number;
}

let captured: HostileCapture | null = null;

/** The program's four snapshots, captured once per test process. */
export function hostileCapture(): HostileCapture {
  captured ??= runPythonJson<HostileCapture>(PROGRAM, tempDir("leakbook-hostile-"));
  return captured;
}
