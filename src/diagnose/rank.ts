// Ranking findings most likely cause first, and the verdict.
import { heldByAgent, pathObjects, type Context } from "./context.js";
import { REMEDIES } from "./remedies.js";
import { severityOf, type Candidate } from "./rules.js";
import type { Finding, FindingKind, Severity, Verdict } from "./types.js";

const SEVERITY_RANK: Record<Severity, number> = { high: 3, medium: 2, low: 1, info: 0 };

/**
 * How much a kind explains: a mechanism (a traceback, a bound method, a two-way tree, an unbounded cache) says why
 * the memory is held and how to fix it; a growing container says where; a growing type only says what.
 */
const WEIGHT: Record<FindingKind, number> = {
  "traceback-retention": 1, "bound-method-retention": 1, "closure-retention": 1, "default-argument": 1,
  "class-attribute": 1, uncollectable: 1, "unbounded-cache": 1, "bidirectional-tree": 1, cycle: 1,
  "string-growth": 1, "native-or-fragmentation": 1, "library-leak": 1, "growing-container": 0.9, "long-lived-large": 0.6,
  "large-cache-entry": 0.5, "object-growth": 0.3,
};
/** Ties (same severity and score): the more specific kind first. */
const KIND_ORDER: FindingKind[] = [
  "uncollectable", "library-leak", "traceback-retention", "bound-method-retention", "closure-retention", "default-argument",
  "class-attribute", "unbounded-cache", "bidirectional-tree", "cycle", "string-growth", "growing-container",
  "large-cache-entry", "long-lived-large", "object-growth", "native-or-fragmentation",
];

export interface Ranked { finding: Finding; candidate: Candidate; score: number }

/**
 * Findings most likely cause first: by severity (growth in every snapshot first), then findings that name a holder
 * before those that only name a type, then by the bytes gained by the
 * finding's group weighted by kind, then by kind. A finding's group is the nearest growing container on its
 * retention path (a cycle kept by a history list belongs to that list), so the mechanism inside a container
 * outranks the bare container, and both outrank unrelated smaller growth. Candidates held by the capture agent's
 * own module are left out.
 */
export function rank(ctx: Context, all: Candidate[]): Ranked[] {
  const n = ctx.snaps.length;
  const candidates = all.filter((c) => c.object < 0 || !heldByAgent(ctx, c.object));
  const severities = candidates.map((c) => severityOf(c, n));
  const containerGrowth = new Map<number, number>();
  candidates.forEach((c, k) => {
    if ((c.kind === "growing-container" || c.kind === "unbounded-cache") && c.object >= 0 && severities[k] !== "info") {
      containerGrowth.set(c.object, Math.max(containerGrowth.get(c.object) ?? 0, c.growthBytes));
    }
  });
  const ranked = candidates.map((c, k): Ranked => {
    let groupGrowth = c.growthBytes;
    const chain = pathObjects(ctx, c.object);
    for (let j = chain.length - 1; j >= 0; j--) {
      const held = containerGrowth.get(chain[j]);
      if (held !== undefined) {
        groupGrowth = Math.max(groupGrowth, held);
        break;
      }
    }
    return {
      candidate: c,
      score: Math.max(groupGrowth, 0) * WEIGHT[c.kind],
      finding: {
        kind: c.kind, severity: severities[k], title: c.title, type: c.type, path: c.path, evidence: c.evidence,
        remedy: c.remedy ?? REMEDIES[c.kind], step: c.step, sample: c.extra?.sample ?? null,
        cluster: c.extra?.cluster ?? null, reason: c.extra?.reason ?? null, catalogue: c.extra?.catalogue ?? null,
      },
    };
  });
  // A finding that names its holder (a path) is actionable; a type that grows is the symptom it explains. Library
  // internals the program does not feed through a known registry come after the program's own holders.
  const named = (r: Ranked) => (r.finding.path === null ? 0 : 1);
  const own = (r: Ranked) => (r.candidate.internal ? 0 : 1);
  ranked.sort((a, b) =>
    SEVERITY_RANK[b.finding.severity] - SEVERITY_RANK[a.finding.severity] ||
    own(b) - own(a) ||
    named(b) - named(a) ||
    b.score - a.score ||
    KIND_ORDER.indexOf(a.finding.kind) - KIND_ORDER.indexOf(b.finding.kind));
  // One finding per holder path: the first (most specific, most severe) speaks for it.
  const seen = new Set<string>();
  return ranked.filter((r) => {
    const key = r.finding.path !== null ? r.finding.path : `${r.finding.kind}|${r.finding.type}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * One snapshot: `leak` only when gc.garbage holds objects (they are never freed), else `inconclusive`. Two
 * snapshots: growth makes it `inconclusive` (one interval cannot tell a leak from a warm-up). Three or more: `leak`
 * when a high or medium finding other than RSS growth exists, `native-or-fragmentation` when only RSS grows,
 * `no-leak` otherwise.
 */
export function verdictOf(ctx: Context, findings: Finding[]): { verdict: Verdict; summary: string } {
  const n = ctx.snaps.length;
  const strong = findings.filter((f) => f.severity === "high" || f.severity === "medium");
  const uncollectable = findings.find((f) => f.kind === "uncollectable");
  const leaks = strong.filter((f) => f.kind !== "native-or-fragmentation");
  const native = strong.find((f) => f.kind === "native-or-fragmentation");
  const top = leaks[0];
  const where = top ? `${top.title}${top.path ? ` at ${top.path}` : ""}` : "";
  if (uncollectable) return { verdict: "leak", summary: `gc.garbage holds objects that are never freed: ${uncollectable.title}.` };
  if (n === 1) {
    return {
      verdict: "inconclusive",
      summary: `One snapshot cannot show growth; ${findings.length} suspect${findings.length === 1 ? "" : "s"} listed. Capture three or more snapshots after equal rounds of work.`,
    };
  }
  if (leaks.length > 0 && n === 2) {
    return { verdict: "inconclusive", summary: `Growth between two snapshots (most likely ${where}); capture a third to tell a leak from a warm-up.` };
  }
  if (leaks.length > 0) return { verdict: "leak", summary: `Leak: most likely ${where}.` };
  if (native) return { verdict: "native-or-fragmentation", summary: `${native.title}: the Python heap does not explain the growth.` };
  return { verdict: "no-leak", summary: `No steady growth over ${n} snapshots.` };
}
