import { Command } from 'commander';
import { ConfigError } from '../config/load';
import { AppError, ValidationError } from '../lib/errors';
import { setLogLevel } from '../lib/logger';
import { CliError, openCliContext, type CliContext } from './context';
import { registerAuditCommands } from './auditCommands';
import { registerComplaintCommands } from './complaintCommands';
import { registerBlockCommands } from '../blocks/blockCommands';
import { registerConsentCommands } from './consentCommands';
import { registerDbCommands } from './dbCommands';
import { registerPostmasterCommands } from './postmasterCommands';
import { registerServerCommands } from './serverCommands';
import { registerUserCommands } from './userCommands';

/** Runs one command with a database connection, turning known errors into one clear line and exit code 1. */
async function run(fn: (ctx: CliContext) => Promise<void>): Promise<void> {
  let ctx: CliContext | undefined;
  try {
    ctx = openCliContext();
    setLogLevel('warn');
    await fn(ctx);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exitCode = 2;
    } else if (err instanceof ValidationError) {
      process.stderr.write(`Error: ${Object.entries(err.fields).map(([field, problem]) => `${field}: ${problem}`).join('; ')}\n`);
      process.exitCode = 1;
    } else if (err instanceof AppError || err instanceof CliError) {
      process.stderr.write(`Error: ${err.message}\n`);
      process.exitCode = 1;
    } else {
      process.stderr.write(`Error: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    }
  } finally {
    await ctx?.db.destroy();
  }
}

// `… | head` closes the pipe early: that is not an error worth a stack trace.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

const program = new Command('antispam').description('Anti-spam policy plugin: administration from the shell').showHelpAfterError();
registerDbCommands(program, run);
registerUserCommands(program, run);
registerServerCommands(program, run);
registerConsentCommands(program, run);
registerComplaintCommands(program, run);
registerBlockCommands(program, run);
registerAuditCommands(program, run);
registerPostmasterCommands(program, run);
await program.parseAsync(process.argv);
