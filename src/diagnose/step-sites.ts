// Step 8, "where were they allocated?": tracemalloc allocation sites of the live objects when the snapshots carry
// them, attached to the type findings; otherwise how to capture with sites.
import { allocationSites } from "../queries/alloc.js";
import type { Context } from "./context.js";
import type { Candidate } from "./rules.js";
import type { StepResult } from "./types.js";

export function sitesStep(ctx: Context, earlier: Candidate[]): { step: StepResult; candidates: Candidate[] } {
  const base = {
    id: "sites", number: 8, title: "Where were the growing objects allocated?",
    question: "Which lines of code allocated the objects that stay alive (tracemalloc allocation sites)?",
    query: "allocationSites(series)",
  };
  if (!ctx.full || !ctx.last.alloc) {
    return {
      step: {
        ...base, status: "skipped", evidence: { tables: {}, charts: {} },
        answer: "The snapshots carry no allocation sites: capture with tracemalloc on (`python3 -m leakbook run --tracemalloc app.py`, " +
          "or PYTHONTRACEMALLOC=8) to see where objects were allocated.",
      },
      candidates: [],
    };
  }
  const table = allocationSites(ctx.snaps, { top: 30 });
  // The top site of each finding's type (a cluster's: its commonest new type) goes into its evidence.
  for (const c of earlier) {
    if (!c.type || c.kind === "native-or-fragmentation") continue;
    const top = allocationSites(ctx.snaps, { type: c.type, top: 1 }).objects()[0] as { site: string; delta_count: number } | undefined;
    if (top) c.evidence = { ...c.evidence, allocated_at: top.site };
  }
  const top = table.objects({ limit: 3 }) as { site: string; delta_count: number; delta_bytes: number }[];
  const gaining = top.filter((r) => r.delta_count > 0);
  return {
    step: {
      ...base,
      status: "info",
      answer: gaining.length > 0
        ? `Most bytes gained were allocated at ${gaining.map((r) => r.site).join(", ")}.`
        : top.length > 0
          ? `No site gained objects; the largest live allocations come from ${top.map((r) => r.site).join(", ")}.`
          : "tracemalloc was on, but no live object has a recorded site.",
      evidence: { tables: { allocationSites: table }, charts: {} },
    },
    candidates: [],
  };
}
