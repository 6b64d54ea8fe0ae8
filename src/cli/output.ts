// What the commands print, made safe for a terminal: every line of text and every message is escaped
// (src/common/escape.ts), since type names, keys, thread and file names in it are arbitrary strings.
import { terminalJson, terminalText } from "../common/escape.js";
import { SnapshotError } from "../common/errors.js";
import { lastMemoryNeed } from "../engine/memory-budget.js";
import { UsageError } from "./arguments.js";

/** Lines of text as one string for stdout: each line escaped, so that a name with a newline stays on its line. */
export function textLines(lines: readonly string[]): string {
  return lines.map(terminalText).join("\n") + "\n";
}

/** A `--json` result: the same value, with no control or bidi character raw. */
export function printJson(value: unknown): void {
  process.stdout.write(terminalJson(value, 1) + "\n");
}

/** A one-line message on stderr, "leakbook: " first. */
export function printMessage(message: string): void {
  process.stderr.write(`leakbook: ${terminalText(message)}\n`);
}

/** A failed allocation of a typed array or buffer: the process ran out of (address space for) memory. */
function isOutOfMemory(error: unknown): boolean {
  return error instanceof RangeError && /allocation failed/i.test(error.message);
}

/**
 * Prints why the command failed, as one line, and returns the exit code: 2 for bad input or usage (and for memory
 * the input needs but the process does not have), 3 for an internal error, whose stack LEAKBOOK_DEBUG=1 adds.
 */
export function reportFailure(error: unknown): number {
  if (error instanceof SnapshotError || error instanceof UsageError) {
    printMessage(error.message);
    return 2;
  }
  if (isOutOfMemory(error)) {
    const need = lastMemoryNeed();
    printMessage(`not enough memory (${(error as Error).message})${need ? ` ${need}` : ""}`);
    return 2;
  }
  const message = error instanceof Error ? error.message : String(error);
  printMessage(`internal error: ${message.split("\n")[0]}${process.env.LEAKBOOK_DEBUG ? "" : " (set LEAKBOOK_DEBUG=1 for details)"}`);
  if (process.env.LEAKBOOK_DEBUG) process.stderr.write(textLines(String((error as Error).stack).split("\n")));
  return 3;
}
