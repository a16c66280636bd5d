import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildHarness, type Harness } from '../testing/appHarness';
import { arfReport, type ArfReportInput } from '../testing/arfReport';
import { runCli } from '../testing/cliRunner';
import { engines } from '../testing/testDb';

const dkim = (domain: string) => `DKIM-Signature: v=1; a=rsa-sha256; d=${domain}; s=default; h=from:to:subject; bh=abc=; b=def=`;
/** A report about custa3's mail from srv1 (a valid complaint unless said otherwise). */
const report = (input: Partial<ArfReportInput> & { messageId: string }) => arfReport({ sourceIp: '192.0.2.11', originalHeaders: [dkim('custa3.example.com')], ...input });

describe.each(engines)('batch intake on %s', { timeout: 120_000 }, (engine) => {
  let h: Harness;
  const intake = () => h.container.complaintIntake;
  const ladderActions = async () => (await h.db('panel_actions').where({ account_id: h.f.accounts.a3, origin: 'ladder' }).orderBy('id').select('strike_id', 'kind')) as Array<{ strike_id: unknown; kind: string }>;

  beforeAll(async () => {
    h = await buildHarness(engine);
    await h.container.servers.setMailIps('srv1.example.net', ['192.0.2.11']);
  });
  afterAll(async () => {
    await h?.cleanup();
  });

  it('stores a batch raw first, refuses what must be refused, and judges each message as if it came alone', async () => {
    const first = report({ messageId: 'spam-a@custa3.example.com', recipients: ['one@isp.example'] });
    const batch = [
      first,
      first, // the same bytes again in the same batch
      Buffer.from(' \r\n'),
      report({ messageId: 'spam-b@custa3.example.com', recipients: ['two@isp.example'] }),
      // Another report of the first spam to the same recipient (a different report): a duplicate of a complaint of this batch.
      report({ messageId: 'spam-a@custa3.example.com', recipients: ['one@isp.example'], reportId: 'another-report@fbl.example' }),
      report({ messageId: 'spam-c@custa3.example.com', recipients: ['three@isp.example'] }),
    ];
    const outcomes = await intake().ingestMany(batch, 'upload', 'test');
    expect(outcomes.map((o) => ('error' in o ? o.error.status : o.stored))).toEqual([true, false, 422, true, true, true]);
    const ids = outcomes.map((o) => ('messageId' in o ? o.messageId : null));
    expect(ids[1]).toBe(ids[0]);
    const stored = await h.db('complaint_messages').where('id', ids[0]!).first();
    expect(Buffer.from(stored.raw as Uint8Array).equals(first)).toBe(true);

    const [a] = await intake().complaintsOf(ids[0]!);
    const [b] = await intake().complaintsOf(ids[3]!);
    const [dup] = await intake().complaintsOf(ids[4]!);
    const [c] = await intake().complaintsOf(ids[5]!);
    expect([a!.status, b!.status, c!.status]).toEqual(['valid', 'valid', 'valid']);
    expect(dup).toMatchObject({ status: 'duplicate', duplicateOf: a!.id });
    expect(dup!.decisionReason).toContain(`#${a!.id}`);
    expect(await h.db('charges').whereIn('complaint_id', [a!.id, b!.id, c!.id, dup!.id])).toHaveLength(3);
  });

  it('runs the ladder strike by strike within a batch; strikes on the same rung queue nothing again', async () => {
    const strikes = (await h.db('strikes').where('account_id', h.f.accounts.a3).orderBy('id').select('id')).map((s: { id: unknown }) => Number(s.id));
    expect(strikes).toHaveLength(3);
    const byStrike = (await ladderActions()).map((a) => `${strikes.indexOf(Number(a.strike_id)) + 1}:${a.kind}`);
    expect(byStrike).toEqual(['1:suspend_outgoing_email', '1:suspend_account', '2:suspend_outgoing_email', '2:terminate_account']);
    const notices = (await h.db('notices').where('account_id', h.f.accounts.a3).orderBy('id').pluck('kind')) as string[];
    expect(notices).toEqual(['warning', 'termination_pending']);
    expect(Number((await h.db('accounts').where('id', h.f.accounts.a3).first('strikes')).strikes)).toBe(3);

    // Another valid complaint later, one at a time: still the same rung, nothing new is queued.
    const later = await intake().ingest(report({ messageId: 'spam-d@custa3.example.com', recipients: ['four@isp.example'] }), 'api', 'test');
    expect(later.complaints[0]!.status).toBe('valid');
    expect(await ladderActions()).toHaveLength(4);
    expect(await h.db('strikes').where('account_id', h.f.accounts.a3)).toHaveLength(4);
  });

  it('the CLI imports a directory of messages and names each refused file', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'complaints-import-'));
    try {
      fs.mkdirSync(path.join(dir, 'cur'));
      fs.writeFileSync(path.join(dir, 'cur', '1.eml'), report({ messageId: 'cli-1@custa3.example.com', recipients: ['five@isp.example'] }));
      fs.writeFileSync(path.join(dir, 'cur', '2.eml'), report({ messageId: 'cli-2@custa3.example.com', recipients: ['six@isp.example'] }));
      fs.writeFileSync(path.join(dir, 'empty.eml'), '');
      const env = { DATABASE_URL: h.t.config.client === 'sqlite' ? `sqlite:${h.t.config.filename}` : h.t.config.url };
      const out = await runCli(['complaints', 'import', dir], env);
      expect(out.stdout).toBe('3 messages: 2 stored, 0 already stored, 1 refused\n');
      expect(out.stderr).toContain(`${path.join(dir, 'empty.eml')}: The message is empty`);
      expect(out.code).toBe(1);
      const again = await runCli(['complaints', 'import', path.join(dir, 'cur')], env);
      expect(again).toMatchObject({ code: 0, stdout: '2 messages: 0 stored, 2 already stored, 0 refused\n' });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
