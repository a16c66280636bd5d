import type { Command } from 'commander';
import fs from 'node:fs';
import path from 'node:path';
import { ComplaintIntakeService } from '../complaints/intakeService';
import { chunksOf } from '../lib/chunks';
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

  complaints
    .command('import')
    .description('Store many complaint messages at once: .eml files, or directories of message files (a maildir\'s cur/ and new/ included). Prints one summary line; refused files are listed on stderr')
    .argument('<paths...>', 'message files or directories')
    .action((paths: string[]) =>
      run(async (ctx) => {
        await assertMigrated(ctx.db);
        const files = paths.flatMap(messageFilesUnder);
        if (!files.length) throw new CliError(`No message files found in ${paths.join(', ')}.`);
        const intake = new ComplaintIntakeService(ctx.db, ctx.clock, ctx.config.complaints);
        const counts = { stored: 0, known: 0, refused: 0 };
        // A few hundred files at a time: memory stays bounded for a whole mailbox archive.
        for (const part of chunksOf(files, 400)) {
          const outcomes = await intake.ingestMany(part.map((f) => fs.readFileSync(f)), 'cli', 'cli');
          for (const [i, outcome] of outcomes.entries()) {
            if ('error' in outcome) {
              counts.refused += 1;
              process.stderr.write(`${part[i]}: ${outcome.error.message}\n`);
            } else if (outcome.stored) counts.stored += 1;
            else counts.known += 1;
          }
        }
        process.stdout.write(`${files.length} message${files.length === 1 ? '' : 's'}: ${counts.stored} stored, ${counts.known} already stored, ${counts.refused} refused\n`);
        if (counts.refused) process.exitCode = 1;
      }),
    );
}

/** A file, or every regular file below a directory (sorted; hidden files and maildir's tmp/ skipped). */
function messageFilesUnder(target: string): string[] {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(target);
  } catch (err) {
    throw new CliError(`Cannot read ${target}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  if (stat.isFile()) return [target];
  if (!stat.isDirectory()) return [];
  return fs
    .readdirSync(target, { withFileTypes: true })
    .filter((e) => !e.name.startsWith('.') && !(e.isDirectory() && e.name === 'tmp'))
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap((e) => (e.isDirectory() ? messageFilesUnder(path.join(target, e.name)) : e.isFile() ? [path.join(target, e.name)] : []));
}
