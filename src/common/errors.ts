// Errors about a snapshot file or its input that the CLI reports as one line, without a stack trace.

export class SnapshotError extends Error {
  constructor(message: string) {
    // One line: callers print `message` as is.
    super(message.replace(/\s*\n\s*/g, " "));
    this.name = "SnapshotError";
  }
}

/** Name of the input for messages: the path, or "<bytes>" when loaded from memory. */
export function describeSource(source: string | null): string {
  return source ?? "<bytes>";
}
