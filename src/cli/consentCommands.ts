import type { Command } from 'commander';
import fs from 'node:fs';
import { ConsentService } from '../consent/consentService';
import { bundleJson } from '../consent/evidence';
import { systemActor } from '../tenancy/actor';
import { assertMigrated, CliError, type CliContext } from './context';

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
  consent
    .command('export')
    .description('Print the evidence bundle (JSON) of one record or a whole list; check it with: node src/consent/verify-bundle.mjs <file>')
    .option('--record <id>', 'consent record id')
    .option('--list <id>', 'consent list id')
    .option('--out <file>', 'write the bundle to this file instead of stdout')
    .action((opts: { record?: string; list?: string; out?: string }) =>
      run(async (ctx) => {
        if (!!opts.record === !!opts.list) throw new CliError('Give exactly one of --record <id> or --list <id>.');
        const raw = (opts.record ?? opts.list)!;
        const id = Number(raw);
        if (!Number.isInteger(id) || id < 1) throw new CliError(`--${opts.record ? 'record' : 'list'} expects a positive id (got "${raw}")`);
        await assertMigrated(ctx.db);
        const bundle = await new ConsentService(ctx.db, ctx.clock).evidence(systemActor, { kind: opts.record ? 'record' : 'list', id });
        if (opts.out) {
          fs.writeFileSync(opts.out, bundleJson(bundle));
          process.stdout.write(`Wrote ${opts.out}: ${bundle.records.length} record(s), chain seq 1-${bundle.chain.lastSeq}, last hash ${bundle.chain.lastHash}\n`);
        } else {
          process.stdout.write(bundleJson(bundle));
        }
      }),
    );
}
