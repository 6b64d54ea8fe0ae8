// The `leakbook` command table: what each command takes and what its --help says. A command's code is imported
// only when it runs (import() in `run`), so that --help, a typo and `leakbook agent` answer without loading the
// analysis, the diagnosis, arquero or the charts. A new command is one entry here and one module.

export type OptionValues = Record<string, string | boolean | undefined>;

export interface CommandSpec {
  usage: string;
  description: string;
  options: Record<string, { type: "string" | "boolean"; short?: string }>;
  help: string;
  /** The first positional (or what follows `--`) starts a program's command line, passed on unparsed. */
  takesProgram?: boolean;
  run(positionals: string[], values: OptionValues): Promise<void>;
}

/** The `--pid PID` option of the series commands: which process's snapshots to analyse. */
const PID_OPTION = { pid: { type: "string" as const } };
const PID_HELP = `  --pid PID  analyse only the snapshots of process PID (needed when the input holds several processes)`;

/** `paths` defaults: paths per object (several for an address, the object the user asked about; one per instance
 * of a type) and how many instances --type shows. */
export const PATHS_DEFAULTS = { kAddress: 3, kType: 1, top: 5 };

/** The agent's `run` options, passed on to it as they are. */
export const AGENT_RUN_OPTIONS = {
  out: { type: "string" as const },
  interval: { type: "string" as const },
  "rss-limit": { type: "string" as const },
  "rss-step": { type: "string" as const },
  tracemalloc: { type: "boolean" as const },
};

export const COMMANDS: Record<string, CommandSpec> = {
  summary: {
    usage: "leakbook summary FILE|DIR [--json]",
    description: "counts, roots, memory, top types by count and size, largest cycles, timings",
    options: { json: { type: "boolean" } },
    help: `Loads a snapshot and runs the full analysis (dominators, retained sizes, cycles).
FILE is an .lbsnap file or a meliae dump; DIR means the latest snapshot in that directory. When DIR holds
snapshots of several processes, they are listed (from the files' headers): pid, start, snapshots, first and last.
  --json   machine-readable output: objects, edges, roots, unreachable, memory, types, cycles, timings;
           processes [{pid, process_start, started, snapshots, first_capture, last_capture, summarized}] when several`,
    run: async (positionals, values) => (await import("./summary.js")).summary(positionals, values),
  },
  paths: {
    usage: "leakbook paths FILE|DIR (ADDRESS | --type TYPE [--top N]) [--k K] [--json]",
    description: "shortest retention paths from the roots to an object, or to the newest instances of a type",
    options: { json: { type: "boolean" }, k: { type: "string" }, type: { type: "string" }, top: { type: "string" } },
    help: `Prints the shortest retention paths of an object, each as steps and as a Python expression that
evaluates to the object in the live process. DIR means the latest snapshot in that directory.
Give exactly one of:
  ADDRESS        id(obj), decimal or 0x hex
  --type TYPE    the newest instances of a type: a qualified name (app.RouteStats, __main__.RouteStats) or a
                 bare class name (RouteStats) matching any module. When DIR holds earlier snapshots of the
                 same process, instances not in the one before (same address and type) come first, then the
                 rest; largest retained size first within each.
  --top N        with --type: how many instances (default ${PATHS_DEFAULTS.top})
  --k K          how many distinct shortest paths per object (default ${PATHS_DEFAULTS.kAddress} for ADDRESS, ${PATHS_DEFAULTS.kType} with --type)
  --json         ADDRESS: {"address", "type", "paths": [{"expr", "root", "steps"}]}
                 --type: {"type", "types", "snapshot", "previous", "instances": [{"address": "0x...", "type",
                 "new", "shallow_bytes", "retained_bytes", "unreachable", "paths": [...]}]}`,
    run: async (positionals, values) => (await import("./paths.js")).paths(positionals, values),
  },
  diagnose: {
    usage: "leakbook diagnose DIR|FILE... [--pid PID] [--json]",
    description: "walk the leak checklist over a snapshot series: verdict, steps, ranked findings",
    options: { json: { type: "boolean" }, ...PID_OPTION },
    help: `Loads the snapshots (a directory of .lbsnap files, or files), orders them by capture time and walks the
checklist: is it a leak, which types grow, caches, long-lived objects, cycles, obscure holders, growth in
size, allocation sites, and process memory against Python objects. Prints each step's question and answer,
then the findings, most likely cause first, each with its retention path and the usual fix.
One snapshot runs the single-snapshot checks only; three or more after equal work are needed to call a leak.
The snapshots must come from one process (pid and start time); otherwise this fails and lists the processes.
${PID_HELP}
  --json   {"verdict", "summary", "snapshots", "steps": [{id, number, title, question, answer, status, query}],
           "findings": [{kind, severity, title, type, path, evidence, remedy, step}]}
           verdict: leak | no-leak | native-or-fragmentation | inconclusive; on mixed processes or an unknown
           --pid: {"error": {kind, message, processes: [{pid, process_start, files}]}}, exit 2`,
    run: async (positionals, values) => (await import("./diagnose.js")).diagnoseCommand(positionals, values),
  },
  check: {
    usage: "leakbook check DIR|FILE... [--pid PID]",
    description: "exit 1 when the snapshots show a leak, 0 otherwise (for CI)",
    options: { ...PID_OPTION },
    help: `Runs the same diagnosis as \`leakbook diagnose\` and prints the verdict line and the top findings.
Exit status: 1 when the verdict is "leak", 0 otherwise (no-leak, native-or-fragmentation, inconclusive),
2 on bad input (snapshots of several processes included), 3 on an internal error.
${PID_HELP}`,
    run: async (positionals, values) => (await import("./diagnose.js")).checkCommand(positionals, values),
  },
  report: {
    usage: "leakbook report DIR|FILE... -o REPORT.html [--force] [--pid PID]",
    description: "write the diagnosis as one self-contained HTML file (checklist, charts, findings, paths)",
    options: { output: { type: "string", short: "o" }, force: { type: "boolean" }, ...PID_OPTION },
    help: `Runs the diagnosis and writes it as one HTML file that opens from disk in any browser: the verdict, the
findings with their retention paths and fixes, and every checklist step with its charts (inline SVG) and
tables. Nothing is fetched from the network and the page runs no script.
  -o, --output FILE   where to write the report (required)
  --force             replace FILE if it exists and is a regular file (otherwise an existing file is never
                      touched; a FIFO, device, directory or symbolic link is never written)
${PID_HELP}`,
    run: async (positionals, values) => (await import("./report.js")).reportCommand(positionals, values),
  },
  fleet: {
    usage: "leakbook fleet DIR|FILE... [--json] [-o REPORT.html [--force]] [--tables DIR] [--workers N]",
    description: "one view across many processes: which leak, shared holders and types, rates, outliers",
    options: {
    json: { type: "boolean" }, output: { type: "string", short: "o" }, force: { type: "boolean" },
    tables: { type: "string" }, workers: { type: "string" },
  },
    help: `Finds every snapshot under the directories (to any depth: one folder per host and pid, or one flat folder)
and groups them by host, pid and process start as their headers say. Diagnoses each process's series (in
worker threads when there are several processes of full snapshots and idle cores), writes the tables
as Parquet and answers with SQL on an embedded DuckDB (docs/export.md has the queries): which processes leak,
which holders and types grow in most of them, how fast (bytes per hour per process, and summed), and which
processes are outliers (robust z-score of growth rate or size above 3.5). Census snapshots are enough for
rates and types; holders need full snapshots.
  --json             {summary, processes: [{host, pid, process_start, verdict, leaks, bytes_per_hour, outlier, ...}],
                     leaking, outliers, holders: [{path, processes, bytes_per_hour, in: [{host, pid, ...}]}],
                     types: [{type, processes, growing_in, bytes_per_hour, ...}], merged_census, skipped}
  -o, --output FILE  also write the fleet as one self-contained HTML report
  --force            replace the report if it exists
  --tables DIR       keep the Parquet tables the queries ran on in DIR (new or empty)
  --workers N        worker threads for the diagnoses (1: none; default: one per idle core, up to the processes)`,
    run: async (positionals, values) => (await import("./fleet.js")).fleet(positionals, values),
  },
  export: {
    usage: "leakbook export DIR|FILE... --to DIR [--format parquet|arrow] [--json]",
    description: "write snapshots as tables (objects, refs, types, census, findings, ...) in Parquet or Arrow files",
    options: { to: { type: "string" }, format: { type: "string" }, json: { type: "boolean" } },
    help: `Finds every snapshot under the directories (to any depth) or given as files, groups them by host and
process, diagnoses each process, and writes the tables snapshots, processes, census, findings, clusters,
types, objects and refs under --to as TABLE/host=HOST/pid=PID/part-START.parquet (hive partitioning: DuckDB
and Spark read host and pid as columns). The columns and example queries: docs/export.md.
  --to DIR           where to write (created; must be new or empty: nothing is ever overwritten)
  --format F         parquet (default; written by an embedded DuckDB) or arrow (Arrow IPC files, .arrow)
  --json             {processes, snapshots, files, rows: {TABLE: n}, skipped, errors}`,
    run: async (positionals, values) => (await import("./export.js")).exportTables(positionals, values),
  },
  run: {
    usage: "leakbook run [--out DIR] [--interval S] [--rss-limit SIZE [--rss-step F]] [--tracemalloc] -- PYTHON SCRIPT.py [ARGS...]",
    description: "run a Python program with the capture agent, taking snapshots into DIR",
    options: AGENT_RUN_OPTIONS,
    takesProgram: true,
    help: `Runs \`PYTHON SCRIPT.py ARGS...\` under the capture agent that comes with leakbook (its \`run\` command:
PYTHON .../leakbook.py run [options] SCRIPT.py ARGS...), with the agent's directory put before PYTHONPATH so that
the program's own \`import leakbook\` finds it: nothing to copy. PYTHON may carry its own options
(python3 -X dev app.py); -m and -c are not supported, as the agent runs a script file.
The program keeps the terminal, and its exit status is leakbook's. SIGTERM, SIGUSR1 and SIGUSR2 sent to leakbook
are passed on to it, and so are SIGINT, SIGQUIT and SIGHUP unless stdin is a terminal (a terminal sends those to
the program itself, and a second one would interrupt its clean-up).
  --out DIR        where the snapshots go (default: .; created when missing)
  --interval S     a snapshot every S seconds (default 60), and one at exit
  --rss-limit SIZE a snapshot when RSS first reaches SIZE (bytes, or 512M, 2G), then at each further --rss-step
  --rss-step F     growth over the last RSS-triggered snapshot (default 0.25: 25%)
  --tracemalloc    record allocation sites (captures 10-30x slower, every allocation costs more)`,
    run: async (positionals, values) => (await import("./run.js")).runProgram(positionals, values),
  },
  agent: {
    usage: "leakbook agent",
    description: "print the path of the Python capture agent (leakbook.py) that comes with leakbook",
    options: {},
    help: `Prints the absolute path of leakbook.py, the capture agent (one file, standard library only). To import it
from your own code: PYTHONPATH="$(dirname "$(leakbook agent)")" python3 app.py, then \`import leakbook\`;
or copy the file next to your application.`,
    run: async (positionals) => (await import("./run.js")).printAgentPath(positionals),
  },
};
