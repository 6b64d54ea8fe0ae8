// Progress of the long steps (loading, analysis, the diagnosis) as one line on stderr, rewritten in place and
// cleared at the end. Shown only on a terminal that can rewrite a line, and never with --json: a program reading
// the JSON may capture stderr with it.
import { terminalText } from "../common/escape.js";

/** What progress needs of a stream: process.stderr, or a stand-in in tests. */
export interface ProgressStream {
  isTTY?: boolean;
  columns?: number;
  write(text: string): unknown;
}

/** Carriage return, then erase to the end of the line. */
export const CLEAR_LINE = "\r\x1b[K";
/** The same line is redrawn at most this often (a load reports every 16 MB, a dominator step every million objects). */
export const REDRAW_MS = 100;

/** Whether progress goes to `stream`: a terminal (not TERM=dumb, which cannot erase a line), and no --json. */
export function showsProgress(stream: { isTTY?: boolean }, env: Record<string, string | undefined>, json: boolean): boolean {
  return stream.isTTY === true && env.TERM !== "dumb" && !json;
}

export class Progress {
  private label: string | null = null;
  private drawnAt = -Infinity;

  constructor(
    private readonly stream: ProgressStream,
    private readonly enabled: boolean,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Shows `label`, with `fraction` done as a percentage: a new label at once, the same one at most every REDRAW_MS. */
  update(label: string, fraction?: number): void {
    if (!this.enabled) return;
    const time = this.now();
    if (label === this.label && time - this.drawnAt < REDRAW_MS) return;
    this.label = label;
    this.drawnAt = time;
    const percent = fraction === undefined ? "" : ` ${Math.floor(100 * Math.min(Math.max(fraction, 0), 1))}%`;
    // One character short of the width: a line that fills the terminal wraps, and \r then returns to the wrong line.
    const width = Math.max((this.stream.columns || 80) - 1, 10);
    const room = width - percent.length;
    const shown = terminalText(label);
    this.stream.write(CLEAR_LINE + (shown.length > room ? shown.slice(0, room - 1) + "…" : shown) + percent);
  }

  /** Writes a line of its own (a warning), above the progress, which the next update redraws. */
  message(line: string): void {
    this.clear();
    this.stream.write(line + "\n");
  }

  /** Erases the progress line, if one is shown. */
  clear(): void {
    if (this.label === null) return;
    this.stream.write(CLEAR_LINE);
    this.label = null;
  }
}

let machineOutput = false;

/** Told by main.ts whether the command prints JSON (then no progress is shown). */
export function setMachineOutput(json: boolean): void {
  machineOutput = json;
}

/** Progress on stderr, shown when showsProgress says so. */
export function terminalProgress(): Progress {
  return new Progress(process.stderr, showsProgress(process.stderr, process.env, machineOutput));
}
