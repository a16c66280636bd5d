import type { Command } from 'commander';
import { randomPassword } from '../auth/password';
import { UserService } from '../auth/userService';
import { CliError, assertMigrated, readStdin, type CliContext } from './context';

export function registerUserCommands(program: Command, run: (fn: (ctx: CliContext) => Promise<void>) => Promise<void>): void {
  const users = program.command('users').description('Users and API tokens');
  const withService = (fn: (service: UserService, ctx: CliContext) => Promise<void>) =>
    run(async (ctx) => {
      await assertMigrated(ctx.db);
      await fn(new UserService(ctx.db, ctx.clock), ctx);
    });

  users
    .command('list')
    .description('One user a line: login, role, account username (tab-separated; "-" when none)')
    .action(() =>
      withService(async (service) => {
        for (const u of await service.list()) process.stdout.write(`${u.login}\t${u.role}\t${u.accountUsername ?? '-'}\n`);
      }),
    );

  users
    .command('add <login>')
    .description('Create a user; prints a generated password unless --password-stdin is given')
    .requiredOption('--role <role>', 'admin, reseller or customer')
    .option('--account <username>', 'panel account the user belongs to (required for reseller and customer)')
    .option('--email <address>', 'contact address')
    .option('--password-stdin', 'read the password from standard input')
    .action((login: string, opts: { role: string; account?: string; email?: string; passwordStdin?: boolean }) =>
      withService(async (service) => {
        const password = opts.passwordStdin ? await readStdin() : randomPassword();
        const user = await service.create({ login, role: opts.role, accountUsername: opts.account, email: opts.email, password });
        process.stdout.write(`Created ${user.role} ${user.login}${user.accountUsername ? ` for account ${user.accountUsername}` : ''}.\n`);
        if (!opts.passwordStdin) process.stdout.write(`Password: ${password}\n`);
      }),
    );

  users
    .command('passwd <login>')
    .description('Set a user\'s password from standard input')
    .action((login: string) =>
      withService(async (service) => {
        await service.setPassword(login, await readStdin());
        process.stdout.write(`Password of ${login} changed.\n`);
      }),
    );

  users
    .command('token <login>')
    .description('Create an API token for the user and print it (only the token, on stdout)')
    .option('--name <name>', 'what the token is for', 'cli')
    .action((login: string, opts: { name: string }) =>
      withService(async (service) => {
        const user = (await service.list()).find((u) => u.login === login.toLowerCase());
        if (!user) throw new CliError(`No user with login "${login}". See: npm run cli -- users list`);
        const { token } = await service.issueToken(user.id, opts.name);
        process.stdout.write(`${token}\n`);
      }),
    );

  users
    .command('tokens <login>')
    .description('List a user\'s API tokens: id, name, prefix, created, state')
    .action((login: string) =>
      withService(async (service) => {
        const user = (await service.list()).find((u) => u.login === login.toLowerCase());
        if (!user) throw new CliError(`No user with login "${login}".`);
        for (const t of await service.listTokens(user.id)) {
          process.stdout.write(`${t.id}\t${t.name}\t${t.prefix}\t${t.createdAt.toISOString()}\t${t.revokedAt ? 'revoked' : 'active'}\n`);
        }
      }),
    );

  users
    .command('revoke-token <login> <id>')
    .description('Revoke one of the user\'s API tokens by id (see users tokens)')
    .action((login: string, id: string) =>
      withService(async (service) => {
        const user = (await service.list()).find((u) => u.login === login.toLowerCase());
        if (!user) throw new CliError(`No user with login "${login}".`);
        if (!/^\d+$/.test(id)) throw new CliError(`Token id must be a number (got "${id}").`);
        await service.revokeToken({ userId: user.id, login: user.login, role: user.role, accountId: user.accountId }, Number(id));
        process.stdout.write(`Token ${id} of ${user.login} revoked.\n`);
      }),
    );
}
