// A command's arguments: its options checked against the command table (one-line messages that name what was
// wrong and, for a typo, what was meant), its positionals, and for `run` the program's own command line.
import { parseArgs } from "node:util";
import type { CommandSpec, OptionValues } from "./commands.js";
import { terminalText } from "../common/escape.js";

/** Bad arguments: reported like a bad file (one line, exit 2), with a hint in the message. */
export class UsageError extends Error {}

export interface ParsedArguments {
  positionals: string[];
  values: OptionValues;
  /** -h or --help came before any positional (for `run`: before the program, whose own --help it is not). */
  help: boolean;
}

/**
 * Splits `args` into option values and positionals. For a command that takes a program, the first positional (or
 * whatever follows `--`) starts the program: it and everything after it are the positionals, unparsed.
 */
export function parseArguments(spec: CommandSpec, args: string[]): ParsedArguments {
  // Not strict: node's own messages are not ours to print. Every token is checked below instead.
  const { tokens } = parseArgs({ args, options: spec.options, allowPositionals: true, strict: false, tokens: true });
  const parsed: ParsedArguments = { positionals: [], values: {}, help: false };
  const programAt = spec.takesProgram ? tokens.findIndex((t) => t.kind === "positional" || t.kind === "option-terminator") : -1;
  const own = programAt >= 0 ? tokens.slice(0, programAt) : tokens;
  // --help wins over any mistake next to it.
  if (own.some((t) => t.kind === "option" && (t.rawName === "--help" || t.rawName === "-h"))) return { ...parsed, help: true };
  for (const token of own) {
    if (token.kind === "positional") parsed.positionals.push(token.value);
    else if (token.kind === "option") parsed.values[token.name] = optionValue(spec, token);
  }
  if (programAt >= 0) {
    const start = tokens[programAt];
    parsed.positionals = args.slice(start.kind === "positional" ? start.index : start.index + 1);
  }
  return parsed;
}

type OptionToken = { name: string; rawName: string; value?: string; inlineValue?: boolean };

function optionValue(spec: CommandSpec, token: OptionToken): string | boolean {
  const option = spec.options[token.name];
  const long = token.rawName.startsWith("--");
  const shown = terminalText(token.rawName);
  if (!option || (!long && option.short !== token.rawName.slice(1))) {
    // -k for --k: a long option written with one dash.
    const meant = long ? closest(token.name, Object.keys(spec.options)) : option ? token.name : null;
    throw new UsageError(`unknown option ${shown} ${meant ? `(did you mean --${meant}?)` : `(usage: ${spec.usage})`}`);
  }
  if (option.type === "boolean") {
    if (token.value !== undefined) throw new UsageError(`${shown} takes no value (usage: ${spec.usage})`);
    return true;
  }
  // A following option is not a value: `--pid --json` forgot the pid.
  if (token.value === undefined || (!token.inlineValue && token.value.startsWith("-") && token.value !== "-")) {
    throw new UsageError(`${shown} needs a value (usage: ${spec.usage})`);
  }
  return token.value;
}

/**
 * The candidate a mistyped word most likely meant: the nearest within one edit for short words and two for
 * longer ones (swapping two neighbouring letters is one edit), else the only candidate the word begins; null
 * when none fits.
 */
export function closest(word: string, candidates: readonly string[]): string | null {
  const typed = word.toLowerCase();
  let best: string | null = null;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const distance = editDistance(typed, candidate.toLowerCase());
    if (distance < bestDistance) [best, bestDistance] = [candidate, distance];
  }
  if (bestDistance <= (typed.length <= 4 ? 1 : 2)) return best;
  const begun = typed.length >= 2 ? candidates.filter((c) => c.toLowerCase().startsWith(typed)) : [];
  return begun.length === 1 ? begun[0] : null;
}

/** Edits (insert, delete, replace, swap of neighbours) that turn `a` into `b`: the optimal string alignment distance. */
export function editDistance(a: string, b: string): number {
  // Three rows of the table: the one before the previous, the previous, the current.
  let before = new Array<number>(b.length + 1).fill(0);
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) current[j] = Math.min(current[j], before[j - 2] + 1);
    }
    [before, previous] = [previous, current];
  }
  return previous[b.length];
}
