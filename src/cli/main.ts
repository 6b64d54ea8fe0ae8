#!/usr/bin/env node
// The `leakbook` command line: finds the command in the table (commands.ts), checks its arguments and runs it. Bad
// input is reported as one line on stderr starting "leakbook: " with exit code 2, never a stack trace; an internal
// error exits 3 (1 is check's "leak"). This module and the table import nothing heavy: start-up stays short.
import { readFileSync } from "node:fs";
import { SnapshotError } from "../common/errors.js";
import { closest, parseArguments, UsageError } from "./arguments.js";
import { COMMANDS, type CommandSpec } from "./commands.js";
import { terminalText } from "../common/escape.js";
import { reportFailure } from "./output.js";
import { setMachineOutput } from "./progress.js";

function programHelp(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((n) => n.length));
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.description}`);
  return `leakbook: find memory leaks in Python heap snapshots

Usage: leakbook COMMAND [options]   (leakbook COMMAND --help, or leakbook help COMMAND, for details)

Commands:
${lines.join("\n")}

Exit status: 0 fine, 1 a leak (check only), 2 bad input or usage (a damaged file, a FIFO or device as input,
a report target that is no regular file, too little memory for the input), 3 an internal error.
`;
}

const commandHelp = (command: CommandSpec) => `Usage: ${command.usage}\n\n${command.help}\n`;

function version(): string {
  const manifest = JSON.parse(readFileSync(new URL("../../../package.json", import.meta.url), "utf8")) as { version: string };
  return manifest.version;
}

async function main(argv: string[]): Promise<void> {
  const [name, ...rest] = argv;
  if (name === "help" && rest.length === 1 && Object.hasOwn(COMMANDS, rest[0])) {
    process.stdout.write(commandHelp(COMMANDS[rest[0]]));
    return;
  }
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    process.stdout.write(programHelp());
    return;
  }
  if (name === "--version") {
    process.stdout.write(`leakbook ${version()}\n`);
    return;
  }
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!command) throw unknownCommand(name);
  const { positionals, values, help } = parseArguments(command, rest);
  if (help) {
    process.stdout.write(commandHelp(command));
    return;
  }
  setMachineOutput(values.json === true);
  await command.run(positionals, values);
}

function unknownCommand(name: string): UsageError {
  const names = Object.keys(COMMANDS);
  if (name.startsWith("-")) return new UsageError(`unknown option ${terminalText(name)} (usage: leakbook COMMAND [options]; commands: ${names.join(", ")})`);
  const meant = closest(name, names);
  return new UsageError(`unknown command '${terminalText(name)}' ${meant ? `(did you mean '${meant}'?)` : `(commands: ${names.join(", ")})`}`);
}

main(process.argv.slice(2)).catch((error: unknown) => {
  process.exitCode = reportFailure(error);
});
