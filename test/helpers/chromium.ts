// Headless Chromium (Debian's chromium, installed by .ci/run) with the network off: the DOM after load, the
// browser's log, a screenshot, and where a page's elements were laid out.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const CHROMIUM = process.env.LEAKBOOK_CHROMIUM || "/usr/bin/chromium";

/** On CI (.ci/run installs Chromium) a missing browser fails the tests instead of skipping them. */
export const chromiumMissing = !existsSync(CHROMIUM) && !process.env.CI;

/** The window's width in CSS pixels, at one device pixel per CSS pixel: layout and screenshot agree. */
const WINDOW_WIDTH = 1200;

function runChromium(args: string[]): { stdout: string; log: string; status: number | null } {
  const profile = mkdtempSync(join(tmpdir(), "leakbook-chromium-"));
  try {
    const result = spawnSync(CHROMIUM, [
      "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync", `--user-data-dir=${profile}`,
      // No network: every request goes to a proxy that does not exist (the discard port), loopback included.
      "--proxy-server=127.0.0.1:9", "--proxy-bypass-list=<-loopback>",
      "--hide-scrollbars", "--force-device-scale-factor=1",
      ...args,
    ], { encoding: "utf8", timeout: 120_000, maxBuffer: 64 * 1024 * 1024 });
    return { stdout: result.stdout, log: result.stderr, status: result.status };
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
}

/** Opens a local file; returns the DOM after load and the browser's log. */
export function openInChromium(file: string, height = 900): { dom: string; log: string; status: number | null } {
  const r = runChromium(["--enable-logging=stderr", "--v=0", `--window-size=${WINDOW_WIDTH},${height}`, "--dump-dom", `file://${file}`]);
  return { dom: r.stdout, log: r.log, status: r.status };
}

/** Console messages and uncaught errors in Chromium's log. */
export function consoleProblems(log: string): string[] {
  return log.split("\n").filter((line) => /:CONSOLE[:(]|Uncaught/.test(line));
}

export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

/**
 * Where the elements each selector picks are, in page pixels, and the page's height: read by a script added at the
 * end of a copy of the page (images carry their width and height, so the layout is final without decoding them).
 */
export function pageLayout(file: string, selectors: string[]): { height: number; boxes: Box[][] } {
  const copy = `${file}.layout.html`;
  const html = readFileSync(file, "utf8");
  const script = `<script>(() => {
    const boxes = ${JSON.stringify(selectors)}.map((selector) => [...document.querySelectorAll(selector)].map((e) => {
      const r = e.getBoundingClientRect();
      return { x: r.left + scrollX, y: r.top + scrollY, width: r.width, height: r.height };
    }));
    const out = document.createElement("pre");
    out.id = "leakbook-layout";
    out.textContent = JSON.stringify({ height: document.documentElement.scrollHeight, boxes });
    document.body.append(out);
  })();</script>`;
  const end = html.lastIndexOf("</body>");
  writeFileSync(copy, end < 0 ? html + script : html.slice(0, end) + script + html.slice(end));
  try {
    const { dom, log } = openInChromium(copy);
    const found = /<pre id="leakbook-layout">([^<]*)<\/pre>/.exec(dom);
    if (!found) throw new Error(`the layout script did not run:\n${log}`);
    return JSON.parse(found[1].replace(/&quot;/g, '"').replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&"));
  } finally {
    rmSync(copy, { force: true });
  }
}

/** A screenshot of the page's top `height` pixels, as PNG bytes. */
export function screenshot(file: string, height: number): Buffer {
  const dir = mkdtempSync(join(tmpdir(), "leakbook-shot-"));
  const out = join(dir, "shot.png");
  try {
    const r = runChromium([`--window-size=${WINDOW_WIDTH},${height}`, `--screenshot=${out}`, `file://${file}`]);
    if (!existsSync(out)) throw new Error(`Chromium wrote no screenshot (status ${r.status}):\n${r.log}`);
    return readFileSync(out);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
