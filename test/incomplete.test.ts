import { test } from "node:test";
import assert from "node:assert/strict";
import { loadSnapshot } from "../src/engine/load.js";
import { FLAG_INCOMPLETE, FLAG_TRACKED } from "../src/engine/snapshot.js";
import { agentAvailable, runPythonJson, tempDir } from "./helpers/python.js";

test("an object the agent could not read loads with FLAG_INCOMPLETE and the header counts it", { skip: !agentAvailable() && "python/leakbook.py not present" }, async () => {
  const dir = tempDir();
  const facts = runPythonJson<{ path: string; huge: number; plain: number }>(`
import json, os, sys
import leakbook

HUGE = range(10 ** 20)  # len() raises OverflowError
PLAIN = ["plain"]
path = os.path.join(sys.argv[1], "incomplete.lbsnap")
leakbook.snapshot(path)
print(json.dumps({"path": path, "huge": id(HUGE), "plain": id(PLAIN)}))
`, dir);
  const snap = await loadSnapshot(facts.path);
  const huge = snap.address.indexOf(facts.huge);
  const plain = snap.address.indexOf(facts.plain);
  assert.ok(huge >= 0 && plain >= 0);
  assert.equal(snap.types[snap.type[huge]], "builtins.range");
  assert.equal(snap.flags[huge] & FLAG_INCOMPLETE, FLAG_INCOMPLETE);
  assert.equal(snap.flags[plain] & (FLAG_INCOMPLETE | FLAG_TRACKED), FLAG_TRACKED);
  const meta = snap.meta as unknown as { failed_objects: number };
  assert.equal(meta.failed_objects, 1);
});
