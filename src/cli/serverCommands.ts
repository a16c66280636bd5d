import fs from 'node:fs';
import type { Command } from 'commander';
import { buildPanelServices } from '../panel/panelServices';
import { readOptionalFile } from '../panel/serverService';
import type { ServerKind } from '../tenancy/types';
import { CliError, assertMigrated, type CliContext } from './context';

function describeCounts(counts: Record<string, number>): string {
  return Object.entries(counts)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
}

export function registerServerCommands(program: Command, run: (fn: (ctx: CliContext) => Promise<void>) => Promise<void>): void {
  const servers = program.command('servers').description('WHM servers this app manages');
  const withPanel = (fn: (panel: ReturnType<typeof buildPanelServices>, ctx: CliContext) => Promise<void>) =>
    run(async (ctx) => {
      await assertMigrated(ctx.db);
      await fn(buildPanelServices({ db: ctx.db, clock: ctx.clock, dataDir: ctx.config.dataDir }), ctx);
    });

  servers
    .command('add <name> <url>')
    .description('Add a WHM server (or update the connection of an existing one); its API must answer first unless --no-check')
    .requiredOption('--token-file <file>', 'file holding the WHM API token (kept in DATA_DIR/whm-tokens, mode 0600)')
    .option('--user <user>', 'WHM user the token belongs to', 'root')
    .option('--ca-file <file>', 'PEM certificate to trust (a self-signed certificate on port 2087)')
    .option('--fingerprint <sha256>', 'SHA-256 fingerprint of the server certificate to pin instead')
    .option('--kind <kind>', 'shared or dedicated', 'shared')
    .option('--no-check', 'save without calling the server first')
    .action((name: string, url: string, opts: { tokenFile: string; user: string; caFile?: string; fingerprint?: string; kind: string; check: boolean }) =>
      withPanel(async (panel) => {
        if (!['shared', 'dedicated'].includes(opts.kind)) throw new CliError(`--kind expects shared or dedicated (got "${opts.kind}")`);
        let token: string;
        try {
          token = fs.readFileSync(opts.tokenFile, 'utf8');
        } catch {
          throw new CliError(`Cannot read the token file ${opts.tokenFile}`);
        }
        const { server, created, resellerCount } = await panel.servers.add(
          {
            name,
            url,
            user: opts.user,
            token,
            kind: opts.kind as ServerKind,
            caPem: readOptionalFile(opts.caFile, 'ca-file'),
            fingerprint: opts.fingerprint ?? null,
          },
          { verify: opts.check },
        );
        process.stdout.write(`${created ? 'Added' : 'Updated'} server ${server.name} (${server.whmUrl} as ${server.whmUser}).\n`);
        if (resellerCount !== null) {
          process.stdout.write(`Connection checked: WHM answered (${resellerCount} reseller${resellerCount === 1 ? '' : 's'}). Run: npm run cli -- servers sync ${server.name}\n`);
        }
      }),
    );

  servers
    .command('list')
    .description('One server a line: name, URL, user, kind, status, accounts, last sync (tab-separated)')
    .action(() =>
      withPanel(async (panel) => {
        for (const s of await panel.servers.list()) {
          const sync = s.lastSyncAt ? `${s.lastSyncStatus} ${s.lastSyncAt.toISOString()}` : 'never synced';
          process.stdout.write([s.name, s.whmUrl, s.whmUser, s.kind, s.status, String(s.accountCount), sync].join('\t') + '\n');
        }
      }),
    );

  servers
    .command('ips <name> [ips...]')
    .description('List the IPs a server sends mail from, or replace them with the IPs given (IPv4/IPv6); complaints are attributed by these')
    .action((name: string, ips: string[]) =>
      withPanel(async (panel) => {
        const list = ips.length ? await panel.servers.setMailIps(name, ips) : await panel.servers.mailIps(name);
        if (!list.length) process.stdout.write(`${name} has no mail IPs configured.\n`);
        for (const ip of list) process.stdout.write(`${ip}\n`);
      }),
    );

  servers
    .command('remove <name>')
    .description('Stop managing a server and delete its token (its accounts and their history stay)')
    .option('--yes', 'confirm')
    .action((name: string, opts: { yes?: boolean }) =>
      withPanel(async (panel) => {
        if (!opts.yes) throw new CliError(`This stops syncing ${name} and deletes its stored token. Run again with --yes to confirm.`);
        const server = await panel.servers.remove(name);
        process.stdout.write(`Removed server ${server.name}; its accounts are kept.\n`);
      }),
    );

  servers
    .command('sync [name]')
    .description('Read resellers, accounts and domains from every server (or one) and reconcile them; prints counts')
    .action((name: string | undefined) =>
      withPanel(async (panel) => {
        const results = await panel.accountSync.syncAll('manual', name);
        if (!results.length) process.stdout.write('No active servers. Add one with: npm run cli -- servers add <name> <url> --token-file <file>\n');
        for (const r of results) {
          if (r.status === 'ok') process.stdout.write(`${r.server}\tok\t${describeCounts({ ...r.counts })}\n`);
          else if (r.status === 'busy') process.stdout.write(`${r.server}\tbusy\tanother instance is syncing this server right now\n`);
          else process.stdout.write(`${r.server}\tfailed\t${r.error}\n`);
        }
        if (results.some((r) => r.status === 'failed')) process.exitCode = 1;
      }),
    );
}
