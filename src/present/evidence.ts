// A finding's evidence for people: one labelled row per figure, in human units, instead of raw JSON.
import * as aq from "arquero";
import type { ColumnTable } from "arquero";
import type { EvidenceValue, Finding } from "../diagnose/types.js";
import { formatBytes, formatCount } from "../common/units.js";
import { arrayText } from "./display.js";

export interface EvidenceRow {
  /** The evidence key in words: `retained_growth_bytes` -> "retained growth bytes". */
  label: string;
  /** The value as text: bytes in binary units, counts with separators, a series on one line. */
  value: string;
}

/** A byte figure or a series of them: `*_bytes`, `*_sizes`. */
const isBytes = (key: string) => key.endsWith("_bytes") || key.endsWith("_sizes");
/** A fraction of a whole: `*_share*`. */
const isShare = (key: string) => key.includes("share");

function numberText(key: string, n: number): string {
  if (isBytes(key)) return formatBytes(n);
  if (isShare(key)) return `${Math.round(n * 1000) / 10}%`;
  if (Number.isInteger(n)) return formatCount(n);
  return Math.abs(n) >= 100 ? formatCount(n) : n.toPrecision(3);
}

function valueText(key: string, value: EvidenceValue): string {
  if (value === null) return "none";
  if (Array.isArray(value)) return arrayText(value, (v) => numberText(key, v as number));
  if (typeof value === "number") return numberText(key, value);
  if (typeof value === "boolean") return value ? "yes" : "no";
  return value;
}

/** The evidence of a finding as labelled rows, in the order the step recorded them. */
export function evidenceRows(evidence: Finding["evidence"]): EvidenceRow[] {
  return Object.entries(evidence).map(([key, value]) => ({
    label: key.replace(/_/g, " "),
    value: valueText(key, value),
  }));
}

/** The evidence of a finding as a two-column table (evidence, value), to show() in a notebook. */
export function evidenceTable(finding: Finding): ColumnTable {
  const rows = evidenceRows(finding.evidence);
  return aq.table({ evidence: rows.map((r) => r.label), value: rows.map((r) => r.value) });
}
