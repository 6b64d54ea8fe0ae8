// leakbook export on snapshots of real processes (the pre-fork test server): the Parquet files read back in DuckDB
// and the Arrow files in flechette with the row counts and column types of the schema, and the values of the
// snapshots; partition folders are safe for any host name; nothing is ever written into a directory in use.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { tableFromIPC } from "@uwdata/flechette";
import { Engine } from "../src/export/duckdb.js";
import { SMALL_TABLES, TABLES, type ColumnType, type TableName } from "../src/export/schema.js";
import { duckdbTableViews, FLEET_QUERIES, FLEET_VIEWS } from "../src/fleet/queries.js";
import { hostSegment, TableWriter } from "../src/export/write.js";
import { fromRows } from "../src/export/schema.js";
import { loadSnapshot } from "../src/engine/load.js";
import type { Snapshot } from "../src/engine/snapshot.js";
import { agentAvailable, CLI, REPO, tempDir } from "./helpers/python.js";
import { runPreforkServer, type PreforkRun } from "./helpers/fleet.js";

const skip = !agentAvailable() && "the capture agent is missing";

function leakbook(...args: string[]) {
  const result = spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8", timeout: 120_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** How DuckDB's DESCRIBE names each schema type. */
const DUCKDB_NAMES: Record<ColumnType, string> = {
  INTEGER: "INTEGER", UINTEGER: "UINTEGER", UTINYINT: "UTINYINT", BIGINT: "BIGINT", UBIGINT: "UBIGINT", DOUBLE: "DOUBLE",
  VARCHAR: "VARCHAR", TIMESTAMPTZ: "TIMESTAMP WITH TIME ZONE",
};
/** flechette's type ids and bit widths for each schema type (Arrow's Type enum: Int 2, Float 3, Utf8 5, Timestamp 10,
 * Dictionary -1: strings are dictionary-encoded utf8). */
const ARROW_TYPES: Record<ColumnType, string> = {
  INTEGER: "2/32/true", UINTEGER: "2/32/false", UTINYINT: "2/8/false", BIGINT: "2/64/true", UBIGINT: "2/64/false",
  DOUBLE: "3", VARCHAR: "-1/5", TIMESTAMPTZ: "10",
};

const ALL_TABLES = Object.keys(TABLES) as TableName[];

let shared: { run: PreforkRun; dir: string; parquet: string; arrow: string; summary: { rows: Record<TableName, number> } } | null = null;
function exported() {
  if (!shared) {
    const dir = tempDir("leakbook-export-in-");
    const run = runPreforkServer(dir);
    const parquet = join(tempDir("leakbook-export-"), "tables");
    const arrow = join(tempDir("leakbook-export-"), "tables");
    const p = leakbook("export", dir, "--to", parquet, "--json");
    assert.equal(p.status, 0, p.stderr);
    const a = leakbook("export", dir, "--to", arrow, "--format", "arrow");
    assert.equal(a.status, 0, a.stderr);
    shared = { run, dir, parquet, arrow, summary: JSON.parse(p.stdout) };
  }
  return shared;
}

function filesUnder(dir: string, extension: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(extension)).map((f) => join(dir, f));
}

async function withEngine<T>(f: (engine: Engine) => Promise<T>): Promise<T> {
  const engine = await Engine.open();
  try {
    return await f(engine);
  } finally {
    engine.close();
  }
}

const parquetOf = (root: string, table: TableName) =>
  `read_parquet('${root}/${table}/*/*/*.parquet', hive_partitioning = true, hive_types = {'host': VARCHAR, 'pid': INTEGER})`;

test("exported Parquet reads back in DuckDB with the snapshots' row counts, the schema's types and their values", { skip }, async () => {
  const { run, parquet, summary } = exported();
  const files = run.workers.flatMap((w) => w.files);
  const snaps: Snapshot[] = [];
  for (const file of files) snaps.push(await loadSnapshot(file));
  const expected: Partial<Record<TableName, number>> = {
    snapshots: files.length, processes: run.workers.length,
    objects: snaps.reduce((n, s) => n + s.objectCount, 0), refs: snaps.reduce((n, s) => n + s.edgeCount, 0),
    types: snaps.reduce((n, s) => n + s.types.length, 0),
  };
  await withEngine(async (engine) => {
    for (const table of ALL_TABLES) {
      const [{ n }] = await engine.query(`SELECT count(*) AS n FROM ${parquetOf(parquet, table)}`);
      assert.equal(n, summary.rows[table], `${table}: rows read back`);
      if (expected[table] !== undefined) assert.equal(n, expected[table], `${table}: rows of the snapshots`);
      const columns = await engine.describe(`SELECT * FROM ${parquetOf(parquet, table)}`);
      assert.deepEqual(columns, [
        ...TABLES[table].map((c) => ({ name: c.name, type: DUCKDB_NAMES[c.type] })),
        { name: "host", type: "VARCHAR" }, { name: "pid", type: "INTEGER" },
      ], `${table}: columns and types`);
    }
    const pids = await engine.query(`SELECT DISTINCT host, pid FROM ${parquetOf(parquet, "snapshots")} ORDER BY pid`);
    assert.deepEqual(pids, run.workers.map((w) => ({ host: snaps[0].meta.hostname, pid: w.pid })).sort((a, b) => a.pid - b.pid));

    // Each snapshot's objects and references, against the loaded file.
    for (const snap of snaps) {
      const [row] = await engine.query(`SELECT s.snapshot_id, count(*) AS objects, sum(o.size) AS size,
          sum(CASE WHEN o.name IS NULL THEN 1 ELSE 0 END) AS unnamed, min(o.address) AS lowest
        FROM ${parquetOf(parquet, "snapshots")} s JOIN ${parquetOf(parquet, "objects")} o ON o.snapshot_id = s.snapshot_id
        WHERE s.file = '${snap.source}' GROUP BY s.snapshot_id`);
      assert.equal(row.objects, snap.objectCount);
      assert.equal(row.size, snap.size.reduce((a: number, b: number) => a + b, 0));
      assert.equal(row.unnamed, snap.name.filter((n: number) => n === 0xffffffff).length);
      assert.equal(row.lowest, Math.min(...snap.address));
    }
    // A reference joins to the objects at both ends: each worker's dict holds its sessions in the last snapshot.
    const held = await engine.query(`SELECT o.pid, count(*) AS sessions
      FROM ${parquetOf(parquet, "refs")} r
      JOIN ${parquetOf(parquet, "objects")} o ON o.snapshot_id = r.snapshot_id AND o.object = r.target
      JOIN ${parquetOf(parquet, "types")} t ON t.snapshot_id = o.snapshot_id AND t.type_id = o.type_id
      JOIN (SELECT pid, max(snapshot_id) AS last FROM ${parquetOf(parquet, "snapshots")} GROUP BY pid) l ON l.last = r.snapshot_id
      WHERE t.type = '__main__.Session' AND r.label LIKE '[''sid-%' GROUP BY o.pid ORDER BY o.pid`);
    assert.deepEqual(held, [...run.workers].sort((a, b) => a.pid - b.pid)
      .map((w) => ({ pid: w.pid, sessions: w.leaks ? run.sessions.leaking : run.sessions.steady })));
    const leaking = run.workers.filter((w) => w.leaks).map((w) => w.pid).sort((a, b) => a - b);
    const holders = await engine.query(`SELECT DISTINCT pid FROM ${parquetOf(parquet, "findings")}
      WHERE finding = 1 AND path = '${run.holder.replace(/'/g, "''")}' ORDER BY pid`);
    assert.deepEqual(holders.map((r) => r.pid), leaking);
  });
});

test("exported Arrow files read back with the same row counts and the schema's types", { skip }, async () => {
  const { arrow, summary } = exported();
  for (const table of ALL_TABLES) {
    let rows = 0;
    for (const file of filesUnder(join(arrow, table), ".arrow")) {
      const t = tableFromIPC(readFileSync(file));
      rows += t.numRows;
      const types = t.schema.fields.map((f) => {
        const type = f.type as { typeId: number; bitWidth?: number; signed?: boolean; dictionary?: { typeId: number } };
        const id = type.typeId === 2 ? `2/${type.bitWidth}/${type.signed}` : type.dictionary ? `-1/${type.dictionary.typeId}` : String(type.typeId);
        return { name: f.name, type: id };
      });
      assert.deepEqual(types, TABLES[table].map((c) => ({ name: c.name, type: ARROW_TYPES[c.type] })), `${relative(arrow, file)}: columns`);
    }
    assert.equal(rows, summary.rows[table], `${table}: rows`);
  }
});

test("export never writes into a directory that holds anything", { skip }, () => {
  const { dir } = exported();
  const to = tempDir("leakbook-export-used-");
  writeFileSync(join(to, "mine.txt"), "keep me");
  const r = leakbook("export", dir, "--to", to);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /^leakbook: .* is not empty; give a new or empty directory\n$/);
  assert.deepEqual(readdirSync(to), ["mine.txt"]);
  assert.equal(readFileSync(join(to, "mine.txt"), "utf8"), "keep me");
  const format = leakbook("export", dir, "--to", join(to, "new"), "--format", "csv");
  assert.equal(format.status, 2);
  assert.match(format.stderr, /^leakbook: bad --format 'csv': give parquet or arrow\n$/);
});

test("a host name becomes one safe folder, which DuckDB reads back as the name", async () => {
  const hostile = ["../../etc", "a/b", ".", "..", "x y%z", "wörk-1", ""];
  for (const host of hostile) {
    const segment = hostSegment(host);
    assert.match(segment, /^[A-Za-z0-9_%-][A-Za-z0-9_.%-]*$/, `${JSON.stringify(host)} -> ${segment}`);
  }
  assert.equal(hostSegment("web-1.example"), "web-1.example");
  const root = tempDir("leakbook-hosts-");
  const writer = new TableWriter(root, "parquet");
  try {
    for (const [k, host] of hostile.entries()) {
      const process = { host, pid: 100 + k, process_start: 1_700_000_000 + k, files: [], times: [], kinds: [] };
      await writer.write("processes", process, [fromRows("processes", [{ process_start: process.process_start, hostname: host || null,
        snapshots: 0, first_time: 0, last_time: 0, verdict: null, summary: null, error: null }])]);
    }
  } finally {
    writer.close();
  }
  for (const file of writer.files) assert.ok(!relative(root, file).startsWith(".."), file);
  assert.equal(readdirSync(join(root, "processes")).length, hostile.length);
  const back = await withEngine((engine) => engine.query(`SELECT host, pid FROM ${parquetOf(root, "processes")} ORDER BY pid`));
  assert.deepEqual(back.map((r) => r.host), hostile.map((h) => h || "unknown"));
  assert.ok(statSync(root).isDirectory());
});

test("docs/export.md describes every column with its type and shows the fleet's SQL as it runs", () => {
  const doc = readFileSync(join(REPO, "docs", "export.md"), "utf8");
  for (const table of ALL_TABLES) {
    const section = doc.slice(doc.indexOf(`### \`${table}\`:`));
    const rows = [...section.slice(0, section.indexOf("\n\n", section.indexOf("|---"))).matchAll(/^\| `(\w+)` \| (\w+)(, null)? \|/gm)];
    assert.deepEqual(rows.map((m) => ({ name: m[1], type: m[2], nullable: m[3] !== undefined })), [...TABLES[table]], `docs/export.md, ${table}`);
  }
  for (const sql of [...Object.values(FLEET_VIEWS), ...Object.values(FLEET_QUERIES)]) {
    assert.ok(doc.includes("```sql\n" + sql + ";\n```"), `docs/export.md shows:\n${sql.split("\n")[0]}`);
  }
  for (const view of duckdbTableViews("OUT", SMALL_TABLES)) assert.ok(doc.includes(view + ";"), view);
});
