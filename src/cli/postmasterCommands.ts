import type { Command } from 'commander';
import { buildPanelServices } from '../panel/panelServices';
import { PostmasterCheckService, type CheckOutcome } from '../postmaster/checkService';
import { routeWords, smtpWords } from '../postmaster/presentation';
import { proberFactory } from '../postmaster/proberFactory';
import { runPostmasterSweep } from '../postmaster/sweep';
import type { Verdict } from '../postmaster/verdict';
import { assertMigrated, CliError, type CliContext } from './context';

/** Exit codes of `postmaster check`, for scripts: 0 nothing to do, 1 the customer must fix it, 2 undecided (try later). */
const exitCodes: Record<Verdict, number> = { ok: 0, not_applicable: 0, missing: 1, undeliverable: 1, unread: 1, unknown: 2 };

/** The check services of the server (container.ts), built from the CLI's configuration. */
function checkServices(ctx: CliContext) {
  const panel = buildPanelServices({ db: ctx.db, clock: ctx.clock, dataDir: ctx.config.dataDir, panel: { timeoutMs: ctx.config.panelTimeoutMs } });
  const checks = new PostmasterCheckService({ db: ctx.db, clock: ctx.clock, panels: panel.panels, proberFor: proberFactory({ db: ctx.db, clock: ctx.clock }, ctx.config.postmaster) });
  return { panel, checks };
}

function describe(o: CheckOutcome, probing: boolean): string {
  const lines = [`${o.domain}\t${o.verdict}`, `reason\t${o.reason}`];
  lines.push(o.route ? `route\t${o.route.route} (${routeWords[o.route.route]})${o.route.target ? ` → ${o.route.target}` : ''}` : 'route\tunknown (the panel could not be read)');
  if (o.probe) {
    const code = [o.probe.code, o.probe.enhancedCode].filter((c) => c !== null).join(' ');
    lines.push(`smtp\t${o.probe.result} (${smtpWords[o.probe.result] ?? o.probe.result})${code ? ` ${code}` : ''}${o.probe.mxHost ? ` from ${o.probe.mxHost}` : ''}: ${o.probe.message}`);
  } else {
    lines.push(`smtp\tnot probed${probing ? ' (the panel configuration settled it)' : ' (SMTP probing is off: POSTMASTER_PROBE)'}`);
  }
  return `${lines.join('\n')}\n`;
}

export function registerPostmasterCommands(program: Command, run: (fn: (ctx: CliContext) => Promise<void>) => Promise<void>): void {
  const postmaster = program.command('postmaster').description('postmaster@ checks: one domain now, or a whole sweep');

  postmaster
    .command('check <domain>')
    .description('Check postmaster@<domain> now and print the verdict, reason, route and SMTP result. Exit 0: ok or not applicable; 1: missing, undeliverable or unread; 2: could not be decided')
    .action((domain: string) =>
      run(async (ctx) => {
        await assertMigrated(ctx.db);
        const { checks } = checkServices(ctx);
        const outcome = await checks.checkDomain(domain.trim().toLowerCase(), 'cli');
        process.stdout.write(describe(outcome, ctx.config.postmaster.probe));
        process.exitCode = exitCodes[outcome.verdict];
      }),
    );

  postmaster
    .command('sweep')
    .description('Check every domain in scope now (one recorded job run, no jitter) and print the counts per verdict')
    .action(() =>
      run(async (ctx) => {
        await assertMigrated(ctx.db);
        const { panel, checks } = checkServices(ctx);
        const result = await runPostmasterSweep({ db: ctx.db, jobs: panel.jobs, checks }, 'manual', { jitter: false });
        if (!result.ran) throw new CliError('Another sweep is running right now (on this or another instance); try again when it has finished.');
        const counts = result.run.counts ?? {};
        process.stdout.write(`${Object.entries(counts).map(([k, v]) => `${k}=${v}`).join(' ')}\n`);
        if (result.run.status === 'failed') {
          process.stderr.write(`Sweep failed: ${result.run.error ?? 'unknown error'}\n`);
          process.exitCode = 1;
        }
      }),
    );
}
