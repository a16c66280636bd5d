import { execFile } from 'node:child_process';

/**
 * The provider's own ways to suspend a dedicated server (power it off, null-route it, open a ticket):
 * a command (SERVER_SUSPEND_COMMAND) or a webhook (SERVER_SUSPEND_WEBHOOK_URL). Both get the action's
 * id so the provider's side can ignore a repeat after a retry.
 */
export interface ProviderHookConfig {
  command?: string;
  webhookUrl?: string;
  timeoutMs?: number;
}

export interface ServerSuspensionRequest {
  actionId: number;
  idempotencyKey: string;
  server: string;
  reason: string;
}

export class ProviderHooks {
  constructor(private readonly config: ProviderHookConfig) {}

  get commandConfigured(): boolean {
    return Boolean(this.config.command);
  }

  get webhookConfigured(): boolean {
    return Boolean(this.config.webhookUrl);
  }

  /** Runs the command without a shell: `<command> <server> <action id> <reason>`; exit 0 is success. */
  runCommand(req: ServerSuspensionRequest): Promise<string> {
    const command = this.config.command;
    if (!command) return Promise.reject(new Error('SERVER_SUSPEND_COMMAND is not configured'));
    return new Promise((resolve, reject) => {
      execFile(command, [req.server, String(req.actionId), req.reason], { timeout: this.config.timeoutMs ?? 60_000, maxBuffer: 256 * 1024 }, (err, stdout, stderr) => {
        if (err) reject(new Error(`${command} failed: ${err.message}${stderr ? ` — ${stderr.trim().slice(0, 500)}` : ''}`));
        else resolve(stdout.trim().slice(0, 2000) || 'exit 0');
      });
    });
  }

  /** POSTs JSON with an Idempotency-Key header; any 2xx is success. */
  async callWebhook(req: ServerSuspensionRequest): Promise<string> {
    const url = this.config.webhookUrl;
    if (!url) throw new Error('SERVER_SUSPEND_WEBHOOK_URL is not configured');
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': req.idempotencyKey },
      body: JSON.stringify({ event: 'server.suspend', server: req.server, actionId: req.actionId, reason: req.reason }),
      signal: AbortSignal.timeout(this.config.timeoutMs ?? 30_000),
    });
    const text = (await res.text()).slice(0, 2000);
    if (!res.ok) throw new Error(`webhook answered HTTP ${res.status}: ${text.slice(0, 300)}`);
    return `HTTP ${res.status} ${text}`.trim();
  }
}
