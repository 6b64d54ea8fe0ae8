// Escaping of text that came from a snapshot (type names, keys, thread and file names are arbitrary strings) before
// it reaches a terminal or an XML document, so that it can neither drive the terminal nor break the document.

/**
 * What a terminal must not receive raw: C0 controls (ESC, BEL, newline ...), DEL and C1 controls (U+0080-009F,
 * CSI included), the bidirectional overrides, embeddings, isolates and marks that reorder what is shown
 * (U+202A-202E, U+2066-2069, U+200E, U+200F, U+061C), the line and paragraph separators, and lone surrogates.
 */
const TERMINAL_UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

const NAMED: Record<string, string> = { "\n": "\\n", "\r": "\\r", "\t": "\\t" };

const hex = (code: number, width: number) => code.toString(16).padStart(width, "0");

/** One character as Python writes it in a repr: \n, \x1b, \u202e. */
function visible(c: string): string {
  const code = c.charCodeAt(0);
  return NAMED[c] ?? (code < 0x100 ? `\\x${hex(code, 2)}` : `\\u${hex(code, 4)}`);
}

/**
 * Text for a terminal: every unsafe character shown as a visible escape (`\n`, `\x1b`, `\u202e`), so a name stays
 * on its line and in its place. Backslashes are kept as they are: paths are Python expressions to paste.
 */
export function terminalText(text: string): string {
  return text.replace(TERMINAL_UNSAFE, visible);
}

/** The unsafe characters JSON.stringify leaves raw (it escapes C0 controls and lone surrogates itself). */
const JSON_UNSAFE = /[\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/g;

/** JSON that is still the same value but carries none of the unsafe characters raw (they become \uXXXX escapes). */
export function terminalJson(value: unknown, indent?: number): string {
  // Those characters can only occur inside strings, where \uXXXX means the same character.
  return (JSON.stringify(value, null, indent) ?? "null").replace(JSON_UNSAFE, (c) => `\\u${hex(c.charCodeAt(0), 4)}`);
}

/** Characters XML 1.0 does not allow anywhere: C0 controls but tab, newline and CR; U+FFFE, U+FFFF; lone surrogates. */
const NOT_XML = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

const XML_ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;" };

/** Replaces every character XML 1.0 does not allow with U+FFFD: makes a generated document's text well-formed. */
export function xmlChars(text: string): string {
  return text.replace(NOT_XML, "\ufffd");
}

/** Text for XML element content or a quoted attribute value: &<>"' escaped, characters XML forbids replaced. */
export function xmlText(text: string): string {
  return xmlChars(text).replace(/[&<>"']/g, (c) => XML_ESCAPES[c]);
}
