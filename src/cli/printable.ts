// Text from outside (arguments, file names) as it may be shown on a terminal: control characters written out as
// \xNN, so that nothing typed or stored can move the cursor, recolour the screen or break a line.

export function printable(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
}
