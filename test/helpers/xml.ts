// A small XML well-formedness check for the SVG charts (the project has no XML parser): the characters XML 1.0
// allows, balanced and properly nested tags, quoted attributes, and no raw "<" or "&" outside markup and entities.

const NOT_XML_CHAR = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const ENTITY = /&(?:amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);/g;
const NAME = /^[A-Za-z_:][-A-Za-z0-9_:.]*$/;

/** Text and attribute values: "<" never, "&" only as an entity. */
function checkText(text: string, where: string): void {
  const rest = text.replace(ENTITY, "");
  if (rest.includes("<") || rest.includes("&")) throw new Error(`raw < or & in ${where}: ${JSON.stringify(text.slice(0, 80))}`);
}

/** Throws with the first problem; returns the number of elements. */
export function checkWellFormedXml(doc: string): number {
  const bad = NOT_XML_CHAR.exec(doc);
  if (bad) throw new Error(`character U+${bad[0].charCodeAt(0).toString(16).padStart(4, "0")} at ${bad.index}, not allowed in XML`);
  const open: string[] = [];
  let elements = 0;
  let at = 0;
  while (at < doc.length) {
    const lt = doc.indexOf("<", at);
    checkText(doc.slice(at, lt < 0 ? doc.length : lt), `text at ${at}`);
    if (lt < 0) break;
    if (doc.startsWith("<!--", lt)) {
      const end = doc.indexOf("-->", lt);
      if (end < 0) throw new Error(`unclosed comment at ${lt}`);
      at = end + 3;
      continue;
    }
    if (doc.startsWith("<?", lt)) {
      const end = doc.indexOf("?>", lt);
      if (end < 0) throw new Error(`unclosed declaration at ${lt}`);
      at = end + 2;
      continue;
    }
    const tag = /^<(\/?)([^\s/>]+)((?:\s+[^\s=/>]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(\/?)>/.exec(doc.slice(lt));
    if (!tag) throw new Error(`malformed tag at ${lt}: ${JSON.stringify(doc.slice(lt, lt + 60))}`);
    const [whole, closing, name, attributes, selfClosing] = tag;
    if (!NAME.test(name)) throw new Error(`bad element name ${JSON.stringify(name)} at ${lt}`);
    for (const [, attribute, quoted] of attributes.matchAll(/([^\s=]+)\s*=\s*("[^"]*"|'[^']*')/g)) {
      if (!NAME.test(attribute)) throw new Error(`bad attribute name ${JSON.stringify(attribute)} at ${lt}`);
      checkText(quoted.slice(1, -1), `attribute ${attribute} at ${lt}`);
    }
    if (closing) {
      if (open.pop() !== name) throw new Error(`</${name}> at ${lt} closes no open <${name}>`);
    } else {
      elements++;
      if (!selfClosing) open.push(name);
    }
    at = lt + whole.length;
  }
  if (open.length > 0) throw new Error(`unclosed <${open.join("> <")}>`);
  return elements;
}
