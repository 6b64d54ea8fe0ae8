// The diagnosis scenario suite (test/scenarios/*.py, see test/helpers/scenarios.ts): every program is captured by
// the real agent under /usr/bin/python3 (or $LEAKBOOK_SCENARIO_PYTHON) and diagnosed; each test asserts the
// expectation in the program's header. Leaks: verdict leak, the first finding's kind among the header's kinds and
// its path naming the holder. Controls: verdict no-leak and no finding above low. A program that fails to run
// (a missing library included) fails its test: nothing is skipped.
// The captures run up front, two at a time; `npm run scenarios` prints the same results as a table and a score.
// LEAKBOOK_SCENARIOS=logger,mock runs only the scenarios whose name contains one of the comma-separated parts.
import { test } from "node:test";
import assert from "node:assert/strict";
import { describeExpectation, describeTop, listScenarios, runScenarios } from "./helpers/scenarios.js";

const filter = (process.env.LEAKBOOK_SCENARIOS ?? "").split(",").filter(Boolean);
const scenarios = listScenarios(filter);
const results = await runScenarios(scenarios, 2);

test("the scenario suite has leak programs and controls", { skip: filter.length > 0 ? "LEAKBOOK_SCENARIOS filters the suite" : false }, () => {
  assert.ok(scenarios.some((s) => s.expect.verdict === "leak"), "no leak_*.py / lib_*.py scenario found");
  assert.ok(scenarios.some((s) => s.expect.verdict === "no-leak"), "no ok_*.py control found");
});

for (const j of results) {
  const what = j.expect.verdict === "leak" ? `leak, first finding ${describeExpectation(j.expect)}` : "no leak, nothing above low";
  test(`scenario ${j.name}: ${what}`, { todo: j.expect.known ?? false }, () => {
    assert.ok(j.pass, `scenario ${j.name}: ${j.reason}\n  verdict: ${j.verdict ?? "(none)"}\n  first findings:\n${describeTop(j)}`);
  });
}
