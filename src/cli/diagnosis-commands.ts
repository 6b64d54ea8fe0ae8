// The diagnosis commands, for the command table in main.ts.
import { checkCommand, diagnoseCommand } from "./diagnose.js";
import { reportCommand } from "./report.js";
import type { CommandSpec } from "./common.js";

export const DIAGNOSIS_COMMANDS: Record<string, CommandSpec> = {
  diagnose: diagnoseCommand,
  check: checkCommand,
  report: reportCommand,
};
