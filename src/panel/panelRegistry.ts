import type { Server } from '../tenancy/types';
import type { PanelAdapter } from './panelAdapter';
import { readServerToken } from './tokenStore';
import { WhmApiClient } from './whm/whmClient';

export interface PanelRegistryOptions {
  timeoutMs?: number;
  maxConcurrency?: number;
}

/**
 * Hands out one WHM client per server. Tokens come from the server's token file, or from memory for
 * servers configured by WHM_* variables and for the embedded simulator (never written anywhere).
 */
export class PanelRegistry {
  private readonly memoryTokens = new Map<string, string>();
  private readonly clients = new Map<string, { key: string; client: PanelAdapter }>();

  constructor(private readonly options: PanelRegistryOptions = {}) {}

  setToken(serverName: string, token: string): void {
    this.memoryTokens.set(serverName.toLowerCase(), token);
  }

  adapterFor(server: Server): PanelAdapter {
    const token = this.memoryTokens.get(server.name) ?? (server.tokenRef ? readServerToken(server.tokenRef) : null);
    if (!token) {
      throw new Error(`No WHM API token is configured for ${server.name}. Add it with: npm run cli -- servers add ${server.name} ${server.whmUrl} --user ${server.whmUser} --token-file <file>`);
    }
    const key = [server.whmUrl, server.whmUser, token, server.tlsCa ?? '', server.tlsFingerprint ?? ''].join('\n');
    const cached = this.clients.get(server.name);
    if (cached?.key === key) return cached.client;
    const client = new WhmApiClient({
      url: server.whmUrl,
      user: server.whmUser,
      token,
      serverName: server.name,
      ca: server.tlsCa ?? undefined,
      fingerprint: server.tlsFingerprint ?? undefined,
      timeoutMs: this.options.timeoutMs,
      maxConcurrency: this.options.maxConcurrency,
    });
    this.clients.set(server.name, { key, client });
    return client;
  }
}
