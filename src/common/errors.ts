// Errors about a snapshot file or its input that the CLI reports as one line, without a stack trace.

export class SnapshotError extends Error {
  /** `message` is one sentence, but the names in it (files, types) may hold any character: escape it to print it. */
  constructor(message: string) {
    super(message);
    this.name = "SnapshotError";
  }
}

/** Name of the input for messages: the path, or "<bytes>" when loaded from memory. */
export function describeSource(source: string | null): string {
  return source ?? "<bytes>";
}
