import type { Command } from 'commander';
import { assertMigrated, CliError, type CliContext } from '../cli/context';
import type { Actor } from '../tenancy/actor';
import type { BlockService } from './blockService';
import { buildBlockService } from './buildBlocks';
import { parseDuration } from './schemas';
import { blockReasons, blockStatuses, maxTtlSeconds, minTtlSeconds, type BlockReason, type BlockStatus, type IpBlock } from './types';

/** The CLI acts as "cli" with admin reach (audit entries say so). */
const cliActor: Actor = { userId: null, login: 'cli', role: 'admin', accountId: null };

function line(b: IpBlock): string {
  return [b.id, b.address, b.status, b.reason, b.expiresAt ? b.expiresAt.toISOString() : 'permanent', b.syncState, b.createdBy, b.reasonText ?? ''].join('\t');
}

function firewallNote(state: string, error: string | null): string {
  if (state === 'synced') return 'firewall: applied';
  if (state === 'not_configured') return 'firewall: not configured (FIREWALL=none), recorded only';
  if (state === 'failed') return `firewall: FAILED (${error ?? 'unknown error'}); the job retries`;
  return 'firewall: pending';
}

/** `blocks add|lift|list`: the IP block list from the shell, with the same rules, audit and firewall as the UI. */
export function registerBlockCommands(program: Command, run: (fn: (ctx: CliContext) => Promise<void>) => Promise<void>): void {
  const blocks = program.command('blocks').description('The IP block list (applied to the firewall named by FIREWALL)');
  const withBlocks = (fn: (svc: BlockService) => Promise<void>) =>
    run(async (ctx) => {
      await assertMigrated(ctx.db);
      await fn(buildBlockService({ db: ctx.db, clock: ctx.clock, config: ctx.config.blocks }));
    });

  blocks
    .command('add <address>')
    .description('Block an address or network (CIDR); an address already blocked has its block extended')
    .option('--reason <reason>', `one of ${blockReasons.join(', ')}`, 'manual')
    .option('--text <text>', 'why, in words (kept as the firewall comment)')
    .option('--ttl <duration>', 'temporary block: seconds, or 30m, 12h, 7d, 2w', '1d')
    .option('--permanent', 'block until lifted (instead of --ttl)')
    .option('--server <name>', 'the server this block concerns (record only)')
    .action((address: string, opts: { reason: string; text?: string; ttl: string; permanent?: boolean; server?: string }) =>
      withBlocks(async (svc) => {
        if (!(blockReasons as readonly string[]).includes(opts.reason)) throw new CliError(`--reason expects one of ${blockReasons.join(', ')} (got "${opts.reason}")`);
        const ttl = parseDuration(opts.ttl);
        if (!opts.permanent && (ttl === null || ttl < minTtlSeconds || ttl > maxTtlSeconds)) throw new CliError(`--ttl expects ${minTtlSeconds}s to ${maxTtlSeconds / 86_400}d, e.g. 3600, 30m, 12h, 7d (got "${opts.ttl}")`);
        let serverId: number | null = null;
        if (opts.server) {
          serverId = await svc.serverIdByName(opts.server);
          if (serverId === null) throw new CliError(`--server: no server named "${opts.server}" (see: npm run cli -- servers list)`);
        }
        const outcome = await svc.add(cliActor, {
          address,
          reason: opts.reason as BlockReason,
          reasonText: opts.text ?? null,
          expiry: opts.permanent ? { permanent: true } : { permanent: false, ttlSeconds: ttl! },
          serverId,
        });
        const b = outcome.block;
        process.stdout.write(`${outcome.created ? 'blocked' : 'extended'}: #${b.id} ${b.address} ${b.expiresAt ? `until ${b.expiresAt.toISOString()}` : 'permanently'}${outcome.permanentBecause ? ` (${outcome.permanentBecause})` : ''}; ${firewallNote(outcome.sync.state, outcome.sync.error)}\n`);
        if (outcome.sync.state === 'failed') process.exitCode = 1;
      }),
    );

  blocks
    .command('lift <idOrAddress>')
    .description('Lift an active block, by its number or by address')
    .requiredOption('--reason <text>', 'why (at least 5 characters; kept in the audit log)')
    .action((target: string, opts: { reason: string }) =>
      withBlocks(async (svc) => {
        let id: number;
        if (/^\d+$/.test(target)) id = Number(target);
        else {
          const active = await svc.activeFor(cliActor, target);
          if (!active) throw new CliError(`${target} has no active block`);
          id = active.id;
        }
        const { block, sync } = await svc.lift(cliActor, id, opts.reason);
        process.stdout.write(`lifted: #${block.id} ${block.address}; ${firewallNote(sync.state, sync.error)}\n`);
        if (sync.state === 'failed') process.exitCode = 1;
      }),
    );

  blocks
    .command('list')
    .description('One block a line, newest first: id, address, status, reason, until, firewall, by, text (tab-separated)')
    .option('--status <status>', `one of ${blockStatuses.join(', ')}`)
    .option('--reason <reason>', `one of ${blockReasons.join(', ')}`)
    .option('--search <text>', 'an IP (finds the networks containing it), a network, or text')
    .option('--limit <n>', 'at most this many (1 to 1000)', '100')
    .action((opts: { status?: string; reason?: string; search?: string; limit: string }) =>
      withBlocks(async (svc) => {
        if (opts.status && !(blockStatuses as readonly string[]).includes(opts.status)) throw new CliError(`--status expects one of ${blockStatuses.join(', ')} (got "${opts.status}")`);
        if (opts.reason && !(blockReasons as readonly string[]).includes(opts.reason)) throw new CliError(`--reason expects one of ${blockReasons.join(', ')} (got "${opts.reason}")`);
        const limit = Number(opts.limit);
        if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new CliError(`--limit expects 1 to 1000 (got "${opts.limit}")`);
        const page = await svc.list(cliActor, { status: opts.status as BlockStatus | undefined, reason: opts.reason as BlockReason | undefined, q: opts.search }, { limit });
        for (const b of page.items) process.stdout.write(`${line(b)}\n`);
        if (!page.items.length) process.stdout.write('No blocks match.\n');
      }),
    );
}
