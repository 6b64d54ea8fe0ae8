// The fleet's questions as SQL over the exported tables. The statements use only what DuckDB and Apache Spark
// (3.4 or later) both understand, so docs/export.md runs them unchanged on either: there, the tables are views
// named after their folders (census, snapshots, processes, findings, clusters), with host and pid from the path.
import { sqlString } from "../export/duckdb.js";
import type { TableName } from "../export/schema.js";

/** Growth below these is noise (the diagnosis's own thresholds: docs/diagnosis.md). */
export const MIN_TYPE_GROWTH_OBJECTS = 100;
export const MIN_TYPE_GROWTH_BYTES = 8 * 1024;
/** A process is an outlier when its robust z-score (distance from the fleet's median over 1.4826 MADs) passes this. */
export const OUTLIER_SCORE = 3.5;

/** Views derived from the tables, in the order they must be created. */
export const FLEET_VIEWS: Record<string, string> = {
  process_growth: `CREATE OR REPLACE TEMPORARY VIEW process_growth AS
WITH totals AS (
  SELECT host, pid, process_start, snapshot_id, max(time_unix) AS time_unix, sum(bytes) AS bytes, sum(count) AS objects
  FROM census GROUP BY host, pid, process_start, snapshot_id
)
SELECT host, pid, process_start, count(*) AS snapshots, (max(time_unix) - min(time_unix)) / 3600 AS hours,
  max_by(bytes, time_unix) AS bytes, max_by(objects, time_unix) AS objects,
  regr_slope(bytes, time_unix) * 3600 AS bytes_per_hour, regr_slope(objects, time_unix) * 3600 AS objects_per_hour
FROM totals GROUP BY host, pid, process_start`,

  type_growth: `CREATE OR REPLACE TEMPORARY VIEW type_growth AS
WITH steps AS (
  SELECT host, pid, process_start, type, time_unix, count, bytes,
    count - lag(count) OVER (PARTITION BY host, pid, process_start, type ORDER BY time_unix, snapshot_id) AS count_step,
    bytes - lag(bytes) OVER (PARTITION BY host, pid, process_start, type ORDER BY time_unix, snapshot_id) AS bytes_step
  FROM census
), per_type AS (
  SELECT host, pid, process_start, type, count(*) AS snapshots,
    max_by(count, time_unix) AS count, max_by(bytes, time_unix) AS bytes,
    max_by(count, time_unix) - min_by(count, time_unix) AS count_growth,
    max_by(bytes, time_unix) - min_by(bytes, time_unix) AS bytes_growth,
    regr_slope(count, time_unix) * 3600 AS count_per_hour, regr_slope(bytes, time_unix) * 3600 AS bytes_per_hour,
    sum(CASE WHEN count_step > 0 THEN 1 ELSE 0 END) AS count_rises,
    sum(CASE WHEN bytes_step > 0 THEN 1 ELSE 0 END) AS bytes_rises
  FROM steps GROUP BY host, pid, process_start, type
)
SELECT *, snapshots >= 3 AND (
    (count_rises = snapshots - 1 AND count_growth >= ${MIN_TYPE_GROWTH_OBJECTS})
    OR (bytes_rises = snapshots - 1 AND bytes_growth >= ${MIN_TYPE_GROWTH_BYTES})) AS grows
FROM per_type`,

  holder_growth: `CREATE OR REPLACE TEMPORARY VIEW holder_growth AS
SELECT f.host, f.pid, f.process_start, f.finding, f.kind, f.severity, f.path, f.type,
  r.retained_bytes, r.bytes_per_hour, r.count_per_hour
FROM findings f LEFT JOIN (
  SELECT host, pid, process_start, finding, max_by(retained_bytes, time_unix) AS retained_bytes,
    regr_slope(retained_bytes, time_unix) * 3600 AS bytes_per_hour,
    regr_slope(retained_count, time_unix) * 3600 AS count_per_hour
  FROM clusters GROUP BY host, pid, process_start, finding
) r ON r.host = f.host AND r.pid = f.pid AND r.process_start = f.process_start AND r.finding = f.finding
WHERE f.path IS NOT NULL AND f.severity IN ('high', 'medium')`,
};

/** The questions, each one query over the tables and views above. */
export const FLEET_QUERIES = {
  /** Every process: its verdict, growth, and how far its growth and size are from the fleet's (robust z-scores). */
  processes: `WITH g AS (
  SELECT p.host, p.pid, p.process_start, p.snapshots, p.verdict, p.error, g.hours, g.bytes, g.objects,
    g.bytes_per_hour, g.objects_per_hour, m.rss_bytes, m.rss_per_hour
  FROM processes p
  LEFT JOIN process_growth g ON g.host = p.host AND g.pid = p.pid AND g.process_start = p.process_start
  LEFT JOIN (
    SELECT host, pid, process_start, max_by(rss_bytes, time_unix) AS rss_bytes,
      regr_slope(rss_bytes, time_unix) * 3600 AS rss_per_hour
    FROM snapshots GROUP BY host, pid, process_start
  ) m ON m.host = p.host AND m.pid = p.pid AND m.process_start = p.process_start
), center AS (
  SELECT median(bytes_per_hour) AS rate_median, median(bytes) AS size_median FROM g
), spread AS (
  SELECT median(abs(g.bytes_per_hour - c.rate_median)) AS rate_mad, median(abs(g.bytes - c.size_median)) AS size_mad
  FROM g CROSS JOIN center c
), scored AS (
  SELECT g.*,
    (g.bytes_per_hour - c.rate_median) / greatest(1.4826 * s.rate_mad, 0.05 * abs(c.rate_median), 1024) AS rate_score,
    (g.bytes - c.size_median) / greatest(1.4826 * s.size_mad, 0.05 * abs(c.size_median), 1024) AS size_score
  FROM g CROSS JOIN center c CROSS JOIN spread s
)
SELECT *, coalesce(abs(rate_score) > ${OUTLIER_SCORE}, false) AS rate_outlier,
  coalesce(abs(size_score) > ${OUTLIER_SCORE}, false) AS size_outlier
FROM scored ORDER BY host, pid, process_start`,

  /** Types that grow in at least one process: in how many, and their counts, bytes and rates summed over the fleet. */
  types: `SELECT type, count(*) AS processes, sum(CASE WHEN grows THEN 1 ELSE 0 END) AS growing_in,
  sum(count) AS count, sum(bytes) AS bytes, sum(count_per_hour) AS count_per_hour,
  sum(bytes_per_hour) AS bytes_per_hour, max(bytes_per_hour) AS max_bytes_per_hour
FROM type_growth GROUP BY type
HAVING sum(CASE WHEN grows THEN 1 ELSE 0 END) > 0
ORDER BY growing_in DESC, bytes_per_hour DESC, type`,

  /** Holders the diagnoses name (high or medium findings): in how many processes, and how fast they grow. */
  holders: `SELECT path, count(*) AS processes, min(kind) AS kind, sum(retained_bytes) AS retained_bytes,
  sum(bytes_per_hour) AS bytes_per_hour, median(bytes_per_hour) AS median_bytes_per_hour
FROM holder_growth GROUP BY path
ORDER BY processes DESC, bytes_per_hour DESC, path`,

  /** The same holders, one row per process that names them. */
  holder_processes: `SELECT host, pid, process_start, path, finding, kind, retained_bytes, bytes_per_hour
FROM holder_growth ORDER BY path, host, pid, process_start`,

  /** Per process and type, for the types that grow somewhere: the heatmap's cells. */
  type_processes: `SELECT t.host, t.pid, t.process_start, t.type, t.grows, t.count, t.bytes, t.count_per_hour, t.bytes_per_hour
FROM type_growth t JOIN (
  SELECT type FROM type_growth GROUP BY type HAVING sum(CASE WHEN grows THEN 1 ELSE 0 END) > 0
) g ON g.type = t.type
ORDER BY t.type, t.host, t.pid, t.process_start`,

  /** The census merged across processes as profiles are: counts and bytes summed at each process's k-th snapshot. */
  merged_census: `SELECT ordinal, count(DISTINCT snapshot_id) AS processes, sum(count) AS count, sum(bytes) AS bytes
FROM (
  SELECT snapshot_id, count, bytes,
    dense_rank() OVER (PARTITION BY host, pid, process_start ORDER BY time_unix, snapshot_id) AS ordinal
  FROM census
) ranked
GROUP BY ordinal ORDER BY ordinal`,
} as const;

export type FleetQueryName = keyof typeof FLEET_QUERIES;

/** DuckDB views over one export's Parquet files: TABLE/host=HOST/pid=PID/*.parquet, host and pid from the path. */
export function duckdbTableViews(dir: string, tables: readonly TableName[]): string[] {
  return tables.map((table) => `CREATE OR REPLACE VIEW ${table} AS SELECT * FROM read_parquet(` +
    `${sqlString(`${dir}/${table}/*/*/*.parquet`)}, hive_partitioning = true, hive_types = {'host': VARCHAR, 'pid': INTEGER})`);
}
