import type { Command } from 'commander';
import { ConsentService } from '../consent/consentService';
import { assertMigrated, type CliContext } from './context';

export function registerConsentCommands(program: Command, run: (fn: (ctx: CliContext) => Promise<void>) => Promise<void>): void {
  const consent = program.command('consent').description('Consent records');
  consent
    .command('verify')
    .description('Check every account\'s consent hash chain: one line per account; exit 1 when any chain is broken')
    .action(() =>
      run(async (ctx) => {
        await assertMigrated(ctx.db);
        const chains = await new ConsentService(ctx.db, ctx.clock).verifyChains();
        if (!chains.length) process.stdout.write('No consent events yet.\n');
        for (const c of chains) {
          if (c.broken) {
            process.stdout.write(`BROKEN\taccount ${c.username} (id ${c.accountId})\tfirst broken event: seq ${c.broken.seq}, id ${c.broken.eventId}: ${c.broken.reason}\n`);
          } else {
            process.stdout.write(`ok\taccount ${c.username} (id ${c.accountId})\t${c.events} event${c.events === 1 ? '' : 's'}\n`);
          }
        }
        if (chains.some((c) => c.broken)) process.exitCode = 1;
      }),
    );
}
