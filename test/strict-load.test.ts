// Strict loading: every header field and section of an lbsnap file is checked, with one line per bad file, and only
// regular files are read. Each case below is one of the ways a damaged or crafted file used to be accepted, crash
// the CLI (exit 3) or hang it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, symlinkSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadSnapshot } from "../src/engine/load.js";
import { SnapshotError } from "../src/common/errors.js";
import { NONE } from "../src/engine/snapshot.js";
import { agentAvailable, CLI, REPO, runPythonJson, tempDir } from "./helpers/python.js";
import { headerOf, resealed, sectionOf, withHeader } from "./helpers/damage.js";

const noAgent = !agentAvailable() && "python/leakbook.py not present";

const CAPTURE = `
import json, os, sys, threading, functools
import leakbook
@functools.lru_cache(maxsize=8)
def square(n):
    return n * n
square(3)
ready, stop = threading.Event(), threading.Event()
def work():
    ready.set()
    stop.wait()
worker = threading.Thread(target=work, name="worker")
worker.start()
ready.wait()
DATA = {"key": list(range(100))}
full = leakbook.snapshot(os.path.join(sys.argv[1], "real.lbsnap"))
census = leakbook.snapshot(os.path.join(sys.argv[1], "census.lbsnap"), census=True)
stop.set()
worker.join()
print(json.dumps({"full": full, "census": census}))
`;

let captured: { full: string; census: string; dir: string } | null = null;
function capture() {
  if (!captured) {
    const dir = tempDir();
    captured = { dir, ...runPythonJson<{ full: string; census: string }>(CAPTURE, dir) };
  }
  return captured;
}

function leakbook(...args: string[]) {
  const result = spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8", timeout: 60_000 });
  assert.equal(result.error, undefined, `leakbook ${args.join(" ")}: ${result.error?.message} (a hang?)`);
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Loading the bytes fails with one line matching `expected`, whether read from a file or handed in as bytes. */
async function assertRejected(bytes: Uint8Array, expected: RegExp, what: string): Promise<void> {
  const path = join(tempDir(), "case.lbsnap");
  writeFileSync(path, bytes);
  for (const input of [path, new Uint8Array(bytes)]) {
    await assert.rejects(loadSnapshot(input), (error: unknown) => {
      assert.ok(error instanceof SnapshotError, `${what}: ${error instanceof Error ? error.stack : error}`);
      assert.match(error.message, expected, what);
      assert.ok(!error.message.includes("\n"), what);
      return true;
    }, what);
  }
}

test("sections must lie apart, aligned, inside the file and of their stated size", { skip: noAgent }, async () => {
  const valid = new Uint8Array(readFileSync(capture().full));
  const size = readFileSync(capture().full).length;
  const cases: [string, (h: any) => void, RegExp][] = [
    // The case: obj_size laid on obj_address read addresses as sizes ("4562796 TiB shallow").
    ["overlap", (h) => { h.sections.obj_size.offset = h.sections.obj_address.offset; }, /corrupted \(sections obj_address and obj_size overlap\)/],
    ["misaligned", (h) => { h.sections.obj_flags.offset += 4; }, /corrupted \(section obj_flags at offset \d+, which is not a multiple of 8\)/],
    ["beyond the file", (h) => { h.sections.str_data.offset = size + 8000; }, /corrupted \(section str_data at bytes \d+-\d+ is outside the file's data/],
    ["inside the header", (h) => { h.sections.obj_address.offset = 8; }, /outside the file's data/],
    ["huge count", (h) => { const s = h.sections.edge_target; s.count = 2 ** 40; s.length = 4 * 2 ** 40; }, /edge_target at bytes .* is outside the file's data/],
    ["length and count disagree", (h) => { h.sections.obj_type.length += 4; }, /sections\.obj_type\.length is \d+, expected \d+ \(count \d+ of u32\)/],
    ["count differs from the objects", (h) => { h.sections.obj_name.count -= 2; h.sections.obj_name.length -= 8; }, /section obj_name has \d+ entries, expected \d+/],
    ["wrong dtype", (h) => { h.sections.obj_size.dtype = "u32"; }, /sections\.obj_size\.dtype is "u32", expected "f64"/],
    ["negative offset", (h) => { h.sections.edge_kind.offset = -8; }, /sections\.edge_kind\.offset is -8, expected a whole number/],
    ["required section missing", (h) => { delete h.sections.edge_label; }, /section edge_label missing/],
    ["a root section without the others", (h) => { delete h.sections.root_label; }, /section root_label missing beside root_object/],
    ["counts disagree", (h) => { h.counts.objects += 1; }, /corrupted \(counts\.objects is \d+, the sections hold \d+\)/],
  ];
  for (const [what, change, expected] of cases) await assertRejected(withHeader(valid, change), expected, what);
});

test("header fields must have their documented types and ranges", { skip: noAgent }, async () => {
  const valid = new Uint8Array(readFileSync(capture().full));
  const header = headerOf(valid);
  assert.ok(header.threads.length >= 2 && header.lru_caches.length >= 1, "the capture has threads and lru caches to damage");
  const cases: [string, (h: any) => string | void, RegExp][] = [
    ["any format", (h) => { h.format = "something-else"; }, /format is "something-else", expected "leakbook-snapshot"/],
    ["format of another type", (h) => { h.format = 1; }, /format is 1/],
    ["version text", (h) => { h.version = "1"; }, /version is "1", expected 1/],
    ["another version", (h) => { h.version = 2; }, /wrong version: header version 2/],
    ["unknown kind", (h) => { h.kind = "partial"; }, /kind is "partial", expected "full" or "census"/],
    ["types not a list", (h) => { h.types = "builtins.dict"; }, /types is "builtins\.dict", expected a list/],
    ["a type not text", (h) => { h.types[3] = 7; }, /types\[3\] is 7, expected text/],
    ["threads not a list", (h) => { h.threads = { main: 1 }; }, /threads is \{"main":1\}, expected a list/],
    ["a thread not an object", (h) => { h.threads[0] = 5; }, /threads\[0\] is 5, expected an object/],
    ["a thread name not text", (h) => { h.threads[1].name = 12; }, /threads\[1\]\.name is 12, expected text or null/],
    ["a thread frame beyond the objects", (h) => { h.threads[0].frame = h.counts.objects; }, /threads\[0\]\.frame is \d+, expected an object index below \d+/],
    ["lru_caches not a list", (h) => { h.lru_caches = 3; }, /lru_caches is 3, expected a list/],
    ["an lru cache's object out of range", (h) => { h.lru_caches[0].object = 4294967295; }, /lru_caches\[0\]\.object is 4294967295/],
    ["an lru cache's hits not a number", (h) => { h.lru_caches[0].hits = "many"; }, /lru_caches\[0\]\.hits is "many", expected a whole number/],
    ["negative maxsize", (h) => { h.lru_caches[0].maxsize = -1; }, /lru_caches\[0\]\.maxsize is -1/],
    ["bounds not pairs", (h) => { h.bounds = [[1, 2, 3]]; }, /bounds\[0\] is \[1,2,3\], expected \[object index, bound\]/],
    ["alloc_sites not a list", (h) => { h.alloc_sites = {}; }, /alloc_sites is \{\}, expected a list/],
    ["meta not an object", (h) => { h.meta = []; }, /meta is \[\], expected an object/],
    ["pid text", (h) => { h.meta.pid = "42"; }, /meta\.pid is "42", expected a process id/],
    ["negative time", (h) => { h.meta.time_unix = -5; }, /meta\.time_unix is -5/],
    ["python version a number", (h) => { h.meta.python.version = 3.11; }, /meta\.python\.version is 3\.11, expected text/],
    ["argv entries not text", (h) => { h.meta.argv = [1]; }, /meta\.argv\[0\] is 1, expected text/],
    ["rss text", (h) => { h.memory.rss = "lots"; }, /memory\.rss is "lots", expected a number of bytes or null/],
    ["a pymalloc figure not a number", (h) => { h.memory.pymalloc.arena_bytes = [1]; }, /memory\.pymalloc\.arena_bytes is \[1\]/],
    ["NaN (Python's json writes it)", (h) => JSON.stringify(h).replace('"pid":', '"pid":NaN,"x":'), /unreadable header \(.*JSON/],
    ["huge number", (h) => { h.meta.sequence = 1e300; }, /meta\.sequence is 1e\+300, expected a whole number/],
    ["census in a full snapshot", (h) => { h.census = { types: {} }; }, /census is \{"types":\{\}\}, expected null in a full snapshot/],
  ];
  for (const [what, change, expected] of cases) await assertRejected(withHeader(valid, change), expected, what);
});

test("column values are checked: edge kinds, sizes, addresses, type, string and root indexes", { skip: noAgent }, async () => {
  const valid = new Uint8Array(readFileSync(capture().full));
  const damaged = (name: string, at: number, value: number) => {
    const copy = new Uint8Array(valid);
    sectionOf(copy, name)[at] = value;
    return resealed(copy);
  };
  const cases: [string, Uint8Array, RegExp][] = [
    ["edge kind above 2", damaged("edge_kind", 10, 3), /corrupted \(edge 10 has kind 3\)/],
    ["NaN size", damaged("obj_size", 5, NaN), /corrupted \(object 5 has size NaN\)/],
    ["negative size", damaged("obj_size", 6, -1), /object 6 has size -1/],
    ["infinite size", damaged("obj_size", 7, Infinity), /object 7 has size Infinity/],
    ["NaN address", damaged("obj_address", 9, NaN), /object 9 has address NaN/],
    ["type index beyond the types", damaged("obj_type", 11, 1e6), /object 11 has type index 1000000 of \d+/],
    ["string index beyond the strings", damaged("obj_name", 12, 1e8), /object 12 has string index 100000000 of \d+/],
    ["root_label 0xFFFFFFFF (the validator allowed it)", damaged("root_label", 0, NONE), /root 0 has string index 4294967295 of \d+/],
    ["root kind above 5", damaged("root_kind", 1, 6), /root 1 has kind 6/],
    ["edge target beyond the objects", damaged("edge_target", 3, NONE), /edge 3 points at object 4294967295/],
    ["edge_start decreasing", damaged("edge_start", 2, 1e9), /edge_start decreases at object 2/],
  ];
  for (const [what, bytes, expected] of cases) await assertRejected(bytes, expected, what);
});

test("a census snapshot: summary shows its counts, paths says it has no objects, the diagnosis reads it", { skip: noAgent }, () => {
  const { census } = capture();
  const text = leakbook("summary", census);
  assert.equal(text.status, 0, text.stderr);
  assert.match(text.stdout, /^.*census\.lbsnap  \(lbsnap census, captured .*\n\nobjects +[\d,]+ +\([\d.]+ [KM]iB shallow; GC-tracked objects only\)/);
  assert.match(text.stdout, /\nTop types by count\n  type +count +shallow\n  builtins\.\S+ +[\d,]+ /);
  const json = JSON.parse(leakbook("summary", census, "--json").stdout);
  assert.equal(json.kind, "census");
  assert.equal(json.objects, headerOf(readFileSync(census)).census.objects);
  assert.equal(json.types.reduce((n: number, t: { count: number }) => n + t.count, 0), json.objects);
  for (const args of [["paths", census, "0x10"], ["paths", census, "--type", "dict"]]) {
    const result = leakbook(...args);
    assert.equal(result.status, 2, result.stderr);
    assert.match(result.stderr, /^leakbook: .*census\.lbsnap: a census snapshot \(per-type counts only\) has no objects to find\n$/);
  }
  for (const command of ["diagnose", "check"]) {
    const result = leakbook(command, census);
    assert.equal(result.status, 0, `${command}: ${result.stderr}`);
  }
  const report = join(tempDir(), "census.html");
  const written = leakbook("report", census, "-o", report);
  assert.equal(written.status, 0, written.stderr);
  assert.match(readFileSync(report, "utf8"), /^<!doctype html>/);
});

test("only regular files are read: FIFOs, devices, directories and symbolic link loops are refused or skipped with a note", { timeout: 240_000 }, () => {
  const dir = tempDir();
  const real = join(dir, "real.lbsnap");
  writeFileSync(real, readFileSync(join(REPO, "examples/cache/snapshots/cache-0.lbsnap")));
  assert.equal(spawnSync("mkfifo", [join(dir, "a.lbsnap")]).status, 0, "mkfifo");
  symlinkSync("loop.lbsnap", join(dir, "loop.lbsnap"));
  mkdirSync(join(dir, "folder.lbsnap"));
  for (const args of [["summary", dir], ["paths", dir, "--type", "dict", "--top", "1"], ["diagnose", dir]]) {
    const result = leakbook(...args);
    assert.equal(result.status, 0, `${args[0]}: ${result.stderr}`);
    assert.equal(result.stderr, [
      `leakbook: skipped ${join(dir, "a.lbsnap")}: a FIFO (named pipe), not a regular file`,
      `leakbook: skipped ${join(dir, "folder.lbsnap")}: a directory, not a regular file`,
      `leakbook: skipped ${join(dir, "loop.lbsnap")}: a symbolic link loop`,
    ].sort().join("\n") + "\n", args[0]);
  }
  for (const [file, expected] of [
    [join(dir, "a.lbsnap"), /a\.lbsnap: is a FIFO \(named pipe\), not a snapshot file$/],
    [join(dir, "loop.lbsnap"), /loop\.lbsnap: a symbolic link loop$/],
    ["/dev/zero", /\/dev\/zero: is a character device, not a snapshot file$/],
  ] as const) {
    for (const command of ["summary", "diagnose"]) {
      const result = leakbook(command, file);
      assert.equal(result.status, 2, `${command} ${file}: ${result.stderr}`);
      assert.match(result.stderr.trimEnd(), expected);
      assert.equal(result.stderr.split("\n").length, 2, result.stderr);
    }
  }
});

test("a sparse file of 3 GB is rejected from its first and last bytes, without reading it", { skip: noAgent }, async () => {
  const path = join(tempDir(), "sparse.lbsnap");
  writeFileSync(path, readFileSync(capture().full).subarray(0, 4096));
  truncateSync(path, 3 * 2 ** 30);
  const before = process.resourceUsage().maxRSS;
  await assert.rejects(loadSnapshot(path), /sparse\.lbsnap: truncated \(no end-of-file trailer\)/);
  const grewKiB = process.resourceUsage().maxRSS - before;
  assert.ok(grewKiB < 256 * 1024, `peak RSS grew by ${grewKiB} KiB`);
});
