// The shape of a diagnosis: checklist steps, findings and the verdict. Plain data, so the CLI can print it as
// JSON and a notebook can show its tables and charts.
import type { ColumnTable } from "arquero";
import type { VegaLiteSpec } from "../charts/charts.js";

export type Verdict = "leak" | "no-leak" | "native-or-fragmentation" | "inconclusive";
export type StepStatus = "ok" | "warn" | "leak" | "skipped" | "info";
export type Severity = "high" | "medium" | "low" | "info";

export const FINDING_KINDS = [
  "growing-container", "unbounded-cache", "large-cache-entry", "object-growth", "cycle", "bidirectional-tree",
  "long-lived-large", "traceback-retention", "closure-retention", "bound-method-retention", "default-argument",
  "class-attribute", "uncollectable", "string-growth", "native-or-fragmentation", "library-leak",
] as const;
export type FindingKind = (typeof FINDING_KINDS)[number];

/** Evidence values: plain JSON (numbers, short strings, booleans, arrays of numbers). */
export type EvidenceValue = number | string | boolean | null | (number | null)[];

export interface Finding {
  kind: FindingKind;
  severity: Severity;
  title: string;
  /** The type that grows or is held (qualified name), or null. */
  type: string | null;
  /** The holder's Python expression (evaluates to it in the live process), or null. */
  path: string | null;
  evidence: Record<string, EvidenceValue>;
  remedy: string;
  /** Id of the checklist step that found it. */
  step: string;
  /** One object the finding is about, to reach with `leakbook paths`: an outermost new member of its cluster. */
  sample: { address: string; type: string; path: string | null } | null;
  /** The new objects the holder keeps (leak clusters; null for findings that are not about one). */
  cluster: ClusterSummary | null;
  /** Why the finding has no holder path, or why it is only a symptom (null when it needs no word). */
  reason: string | null;
  /** The library registry this is, from the catalogue of library leaks (docs/diagnosis.md), or null. */
  catalogue: { id: string; registry: string; fed_by: string } | null;
}

export interface ClusterSummary {
  /** Objects not present in the previous snapshot that the holder keeps, and their shallow bytes. */
  new_objects: number;
  new_bytes: number;
  /** Bytes and objects the holder keeps alive in every snapshot (null where it was not found). */
  retained_sizes: (number | null)[];
  retained_counts: (number | null)[];
  /** The commonest types among the new objects, the program's own classes first. */
  members: { type: string; count: number; bytes: number }[];
  /** A few of the holder's new entries as text (`['key']: value`, `.attr: type`, `[3]: type`). */
  entries: string[];
}

/** The fields a finding carries beyond the common ones, as the steps set them. */
export interface FindingExtra {
  sample?: Finding["sample"];
  cluster?: ClusterSummary;
  reason?: string;
  catalogue?: Finding["catalogue"];
}

export interface StepResult {
  id: string;
  /** 1 to 8 for the checklist steps; 0 for the RSS-versus-objects sidebar. */
  number: number;
  title: string;
  question: string;
  /** One sentence. */
  answer: string;
  status: StepStatus;
  evidence: { tables: Record<string, ColumnTable>; charts: Record<string, VegaLiteSpec> };
  /** The helper call that reproduces the evidence, e.g. "caches(series)". */
  query: string;
}

export interface Diagnosis {
  verdict: Verdict;
  /** One sentence that explains the verdict. */
  summary: string;
  snapshots: number;
  steps: StepResult[];
  /** Most likely cause first. */
  findings: Finding[];
}
