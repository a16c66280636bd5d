import type { Command } from 'commander';
import fs from 'node:fs';
import { ComplaintIntakeService } from '../complaints/intakeService';
import { assertMigrated, CliError, type CliContext } from './context';

/** Reads all of stdin as bytes, unchanged (a complaint is stored byte for byte). */
async function readStdinBytes(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export function registerComplaintCommands(program: Command, run: (fn: (ctx: CliContext) => Promise<void>) => Promise<void>): void {
  const complaints = program.command('complaints').description('Spam complaints');
  complaints
    .command('ingest')
    .description('Store one complaint message read from stdin (or --file), exactly as received, and print one result line. For the abuse@ mailbox: pipe it to this command')
    .option('--file <path>', 'read the message from this file instead of stdin')
    .action((opts: { file?: string }) =>
      run(async (ctx) => {
        await assertMigrated(ctx.db);
        let raw: Buffer;
        try {
          raw = opts.file ? fs.readFileSync(opts.file) : await readStdinBytes();
        } catch (err) {
          throw new CliError(`Cannot read ${opts.file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
        }
        const result = await new ComplaintIntakeService(ctx.db, ctx.clock, ctx.config.complaints).ingest(raw, 'cli', 'cli');
        const first = result.complaints[0]!;
        const parts = [
          `${result.stored ? 'stored' : 'already stored'}: complaint #${first.id}`,
          result.complaints.length > 1 ? `(${result.complaints.length} recipients)` : '',
          `status ${first.status}`,
          first.feedbackType ? `feedback ${first.feedbackType}` : '',
          first.accountUsername ? `account ${first.accountUsername}` : '',
          first.domainName ? `domain ${first.domainName}` : '',
          first.resellerUsername ? `reseller ${first.resellerUsername}` : '',
          first.duplicateOf ? `duplicate of #${first.duplicateOf}` : '',
        ];
        process.stdout.write(`${parts.filter(Boolean).join(' ')}\n`);
      }),
    );
}
