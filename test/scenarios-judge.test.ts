// The scenario suite's header parser and judge (test/helpers/scenarios.ts), without running any program.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { Finding } from "../src/diagnose/index.js";
import { judge, listScenarios, parseHeader, score } from "./helpers/scenarios.js";

function finding(kind: string, severity: string, path: string | null, type: string | null = null, remedy = ""): Finding {
  return { kind, severity, path, type, title: kind, evidence: {}, remedy, step: "x" } as unknown as Finding;
}

test("parseHeader reads verdict, kinds, holder and the optional type and remedy alternatives", () => {
  const e = parseHeader('"""doc"""\n# verdict: leak\n# kinds: growing-container | library-leak\n# holder: .manager.loggerDict\n');
  assert.deepEqual(e, { verdict: "leak", kinds: ["growing-container", "library-leak"], holder: ".manager.loggerDict", type: null, remedy: null, known: null });
  assert.deepEqual(parseHeader("# verdict: leak\n# kinds: object-growth\n# type: Connection|builtins.method\n").type, ["Connection", "builtins.method"]);
  assert.deepEqual(parseHeader("# verdict: leak\n# kinds: cycle\n# remedy: clear_memo() | fresh\n").remedy, ["clear_memo()", "fresh"]);
  assert.deepEqual(parseHeader("# verdict: no-leak\n"), { verdict: "no-leak", kinds: [], holder: null, type: null, remedy: null, known: null });
  assert.throws(() => parseHeader("# kinds: cycle\n"), /verdict/);
  assert.throws(() => parseHeader("# verdict: leak\n"), /kinds/);
});

test("judge: leaks need the verdict, an accepted first kind and the holder in the first path", () => {
  const e = parseHeader("# verdict: leak\n# kinds: growing-container|library-leak\n# holder: service.history\n");
  const path = "sys.modules['__main__'].service.history";
  assert.equal(judge(e, { verdict: "leak", findings: [finding("growing-container", "high", path)] }), null);
  assert.match(judge(e, { verdict: "no-leak", findings: [] }) ?? "", /verdict no-leak/);
  assert.match(judge(e, { verdict: "leak", findings: [] }) ?? "", /no findings/);
  assert.match(judge(e, { verdict: "leak", findings: [finding("cycle", "high", path)] }) ?? "", /first finding is cycle/);
  assert.match(judge(e, { verdict: "leak", findings: [finding("growing-container", "high", "sys.modules['__main__'].service")] }) ?? "", /does not contain/);
  // only the first finding counts
  const late = [finding("object-growth", "high", null), finding("growing-container", "high", path)];
  assert.ok(judge(e, { verdict: "leak", findings: late }));
  const typed = parseHeader("# verdict: leak\n# kinds: object-growth\n# type: Connection|builtins.method\n");
  assert.equal(judge(typed, { verdict: "leak", findings: [finding("object-growth", "high", null, "__main__.Connection")] }), null);
  assert.match(judge(typed, { verdict: "leak", findings: [finding("object-growth", "high", null, "builtins.bytearray")] }) ?? "", /type/);
  const remedied = parseHeader("# verdict: leak\n# kinds: object-growth\n# remedy: clear_memo()|fresh Pickler\n");
  assert.equal(judge(remedied, { verdict: "leak", findings: [finding("object-growth", "high", null, null, "Call p.clear_memo() after each")] }), null);
  assert.match(judge(remedied, { verdict: "leak", findings: [finding("object-growth", "high", null, null, "Bound it")] }) ?? "", /remedy does not mention/);
});

test("judge: controls need no-leak and nothing above low", () => {
  const e = parseHeader("# verdict: no-leak\n");
  assert.equal(judge(e, { verdict: "no-leak", findings: [finding("cycle", "low", null), finding("x", "info", null)] }), null);
  assert.match(judge(e, { verdict: "no-leak", findings: [finding("growing-container", "medium", "p")] }) ?? "", /above low/);
  assert.match(judge(e, { verdict: "leak", findings: [] }) ?? "", /verdict leak/);
});

test("every scenario program has a valid header; the suite has at least 12 stdlib leaks and 6 controls", () => {
  const all = listScenarios();
  assert.ok(all.filter((s) => s.name.startsWith("leak_")).length >= 12);
  assert.ok(all.filter((s) => s.expect.verdict === "no-leak").length >= 6);
  for (const s of all) assert.equal(s.expect.verdict, s.name.startsWith("ok_") ? "no-leak" : "leak", s.name);
  const counted = score(all.map((s) => ({ expect: s.expect, pass: true }) as never));
  assert.equal(counted.leaks + counted.controls, all.length);
});
