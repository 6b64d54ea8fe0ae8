// Step 8, "where were they allocated?": tracemalloc allocation sites of the live objects when the snapshots carry
// them, attached to the findings; otherwise how to capture with sites.
import { allocationSites } from "../queries/alloc.js";
import { NONE } from "../engine/snapshot.js";
import { isStandardLibraryFile, objectAt, type Context } from "./context.js";
import type { Candidate } from "./rules.js";
import type { StepResult } from "./types.js";

/**
 * "file:line" where the finding's sample object was allocated, or null: the innermost frame outside the standard
 * library (an lru_cache key is made in functools, at the program's call).
 */
function sampleSite(ctx: Context, c: Candidate): string | null {
  const address = c.extra?.sample?.address;
  const alloc = ctx.last.alloc;
  if (!address || !alloc || !ctx.last.allocSites) return null;
  const i = objectAt(ctx, parseInt(address, 16));
  const frames = i >= 0 && alloc[i] !== NONE ? ctx.last.allocSites[alloc[i]] : undefined;
  if (!frames || frames.length === 0) return null;
  const frame = frames.find((f) => !isStandardLibraryFile(f.file)) ?? frames[0];
  return `${frame.file}:${frame.line}`;
}

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
  // Each finding's evidence gets the site of its sample object (a new member of its cluster), else the top site of
  // its type.
  for (const c of earlier) {
    const own = sampleSite(ctx, c);
    if (own) {
      c.evidence = { ...c.evidence, allocated_at: own };
      continue;
    }
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
