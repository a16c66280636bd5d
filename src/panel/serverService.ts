import net from 'node:net';
import fs from 'node:fs';
import type { Knex } from 'knex';
import { auditRepository } from '../audit/auditRepository';
import { toDbTime } from '../db/dialect';
import type { Clock } from '../lib/clock';
import { NotFoundError, ValidationError } from '../lib/errors';
import { systemActor, type Actor } from '../tenancy/actor';
import { serverRepository } from '../tenancy/serverRepository';
import type { Server, ServerKind, ServerSource } from '../tenancy/types';
import type { PanelRegistry } from './panelRegistry';
import { removeServerToken, saveServerToken } from './tokenStore';
import { normalizeFingerprint } from './whm/tlsOptions';
import { WhmApiClient } from './whm/whmClient';

export interface AddServerInput {
  name: string;
  url: string;
  user: string;
  token: string;
  kind?: ServerKind;
  caPem?: string | null;
  fingerprint?: string | null;
}

function validate(input: AddServerInput): { name: string; url: URL; fingerprint: string | null } {
  const fields: Record<string, string> = {};
  const name = input.name.trim().toLowerCase();
  if (!/^[a-z0-9][a-z0-9.-]{0,190}$/.test(name)) fields.name = 'use letters, digits, dots and dashes (a host name is a good choice)';
  let url: URL | null = null;
  try {
    url = new URL(input.url);
  } catch {
    fields.url = 'expects an absolute URL such as https://cp1.example.net:2087';
  }
  const loopback = url && ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
  if (url && url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) fields.url = 'must use https:// (plain http is accepted only on this machine, e.g. the simulator)';
  if (!/^[a-z0-9_-]{1,64}$/i.test(input.user)) fields.user = 'expects the WHM user the token belongs to, e.g. root';
  if (!input.token.trim()) fields.token = 'the token file is empty';
  if (input.caPem && input.fingerprint) fields.fingerprint = 'give either a CA file or a fingerprint, not both';
  if (input.caPem && !input.caPem.includes('-----BEGIN CERTIFICATE-----')) fields.ca = 'the CA file holds no PEM certificate';
  let fingerprint: string | null = null;
  if (input.fingerprint) {
    try {
      fingerprint = normalizeFingerprint(input.fingerprint);
    } catch (err) {
      fields.fingerprint = (err as Error).message;
    }
  }
  if (Object.keys(fields).length) throw new ValidationError(fields);
  return { name, url: url!, fingerprint };
}

/** Panel servers the app manages: added by the CLI, by WHM_* variables, or the embedded simulator. */
export class ServerService {
  constructor(
    private readonly db: Knex,
    private readonly clock: Clock,
    private readonly dataDir: string,
    private readonly panels: PanelRegistry,
  ) {}

  list(): Promise<Server[]> {
    return serverRepository.list(this.db);
  }

  /**
   * Adds a server, or updates the connection of an existing one with that name. With `verify`, WHM is
   * called first (listresellers) and nothing is saved when it does not answer, so a wrong token never
   * replaces a working one. Returns whether the server was new and, when verified, its reseller count.
   */
  async add(input: AddServerInput, opts: { verify?: boolean; by?: Actor } = {}): Promise<{ server: Server; created: boolean; resellerCount: number | null }> {
    const { name, url, fingerprint } = validate(input);
    const whmUrl = url.toString().replace(/\/$/, '');
    let resellerCount: number | null = null;
    if (opts.verify) {
      const probe = new WhmApiClient({ url: whmUrl, user: input.user, token: input.token.trim(), serverName: name, ca: input.caPem ?? undefined, fingerprint: fingerprint ?? undefined });
      try {
        resellerCount = (await probe.listResellers()).length;
      } finally {
        probe.close();
      }
    }
    const tokenRef = saveServerToken(this.dataDir, name, input.token);
    const saved = await this.upsert(name, { whmUrl, whmUser: input.user, source: 'cli', tokenRef, tlsCa: input.caPem ?? null, tlsFingerprint: fingerprint }, input.kind ?? 'shared', opts.by ?? systemActor);
    return { ...saved, resellerCount };
  }

  /** A server whose token lives only in memory (WHM_* variables, the embedded simulator). */
  async register(name: string, input: { url: string; user: string; token: string; source: Exclude<ServerSource, 'cli'>; kind?: ServerKind; caPem?: string | null; fingerprint?: string | null }): Promise<Server> {
    const checked = validate({ name, url: input.url, user: input.user, token: input.token, caPem: input.caPem, fingerprint: input.fingerprint });
    this.panels.setToken(checked.name, input.token);
    const { server } = await this.upsert(
      checked.name,
      { whmUrl: checked.url.toString().replace(/\/$/, ''), whmUser: input.user, source: input.source, tokenRef: null, tlsCa: input.caPem ?? null, tlsFingerprint: checked.fingerprint },
      input.kind ?? 'shared',
      systemActor,
    );
    return server;
  }

  private async upsert(name: string, connection: Parameters<typeof serverRepository.updateConnection>[2], kind: ServerKind, by: Actor): Promise<{ server: Server; created: boolean }> {
    return this.db.transaction(async (trx) => {
      const now = this.clock.now();
      const existing = await serverRepository.findByName(trx, name);
      const id = existing ? existing.id : await serverRepository.insert(trx, { name, kind, ...connection }, now);
      if (existing) await serverRepository.updateConnection(trx, id, connection, now);
      await auditRepository.append(trx, { actorUserId: by.userId, actorLogin: by.login, action: existing ? 'server.update' : 'server.add', subjectType: 'server', subjectId: id, data: { name, url: connection.whmUrl, source: connection.source } }, now);
      return { server: (await serverRepository.findById(trx, id))!, created: !existing };
    });
  }

  /** The IPs this server sends mail from: a complaint's source IP is matched against them. */
  async mailIps(name: string): Promise<string[]> {
    const server = await serverRepository.findByName(this.db, name);
    if (!server) throw new NotFoundError(`Server "${name}"`);
    return ((await this.db('server_ips').where('server_id', server.id).orderBy('ip').select('ip')) as Array<{ ip: string }>).map((r) => r.ip);
  }

  /** Replaces the server's outbound mail IPs (IPv4 or IPv6); an IP of another server is refused. Audited. */
  async setMailIps(name: string, ips: string[], by: Actor = systemActor): Promise<string[]> {
    const server = await serverRepository.findByName(this.db, name);
    if (!server) throw new NotFoundError(`Server "${name}"`);
    const wanted = [...new Set(ips.map((ip) => ip.trim().toLowerCase()).filter(Boolean))];
    const bad = wanted.filter((ip) => net.isIP(ip) === 0);
    if (bad.length) throw new ValidationError({ ips: `not an IPv4 or IPv6 address: ${bad.join(', ')}` });
    await this.db.transaction(async (trx) => {
      const taken = (await trx('server_ips as i').join('servers as s', 's.id', 'i.server_id').whereIn('i.ip', wanted).whereNot('i.server_id', server.id).select('i.ip', 's.name')) as Array<{ ip: string; name: string }>;
      if (taken.length) throw new ValidationError({ ips: taken.map((t) => `${t.ip} belongs to server ${t.name}`).join('; ') });
      const now = this.clock.now();
      await trx('server_ips').where('server_id', server.id).delete();
      if (wanted.length) await trx('server_ips').insert(wanted.map((ip) => ({ server_id: server.id, ip, created_at: toDbTime(now) })));
      await auditRepository.append(trx, { actorUserId: by.userId, actorLogin: by.login, action: 'server.mail_ips', subjectType: 'server', subjectId: server.id, data: { name: server.name, ips: wanted } }, now);
    });
    return wanted.sort();
  }

  /** Stops syncing a server and forgets its token; its accounts and their history stay. */
  async remove(name: string, by: Actor = systemActor): Promise<Server> {
    const server = await serverRepository.findByName(this.db, name);
    if (!server || server.status === 'removed') throw new NotFoundError(`Server "${name}"`);
    await this.db.transaction(async (trx) => {
      const now = this.clock.now();
      await serverRepository.setStatus(trx, server.id, 'removed', now);
      await auditRepository.append(trx, { actorUserId: by.userId, actorLogin: by.login, action: 'server.remove', subjectType: 'server', subjectId: server.id, data: { name: server.name } }, now);
    });
    removeServerToken(server.tokenRef);
    return server;
  }
}

export function readOptionalFile(path: string | undefined, what: string): string | null {
  if (!path) return null;
  try {
    return fs.readFileSync(path, 'utf8');
  } catch {
    throw new ValidationError({ [what]: `cannot read ${path}` });
  }
}
