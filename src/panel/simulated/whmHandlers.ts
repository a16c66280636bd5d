import crypto from 'node:crypto';
import { SimFailure, required, type HandlerContext, type WhmHandler } from './handlerContext';
import type { SimAccount, SimState } from './simState';
import { runUapi, type UapiInner } from './uapiHandlers';

export function noSuchUser(user: string): SimFailure {
  return new SimFailure(`The user “${user}” does not exist.`);
}

/** The account, if it exists and the caller may act on it (root, the account itself, or its owner). */
export function accessibleAccount(ctx: HandlerContext, user: string): SimAccount {
  const a = ctx.state.account(user);
  if (ctx.caller !== 'root' && (!a || (a.owner !== ctx.caller && a.user !== ctx.caller))) {
    throw new SimFailure(`You do not have access to an account named “${user}”.`);
  }
  if (!a) throw noSuchUser(user);
  return a;
}

function visibleAccounts(ctx: HandlerContext): SimAccount[] {
  const all = ctx.state.allAccounts();
  return ctx.caller === 'root' ? all : all.filter((a) => a.owner === ctx.caller || a.user === ctx.caller);
}

function bool(v: boolean): 0 | 1 {
  return v ? 1 : 0;
}

function formatDate(unix: number): string {
  const d = new Date(unix * 1000);
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${pad(d.getUTCDate())} ${months[d.getUTCMonth()]} ${pad(d.getUTCFullYear() % 100)} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`;
}

/** One `acct` object as listaccts and accountsummary show it. */
function acctRow(state: SimState, a: SimAccount): Record<string, unknown> {
  return {
    user: a.user,
    domain: a.domain,
    owner: a.owner,
    email: a.email ?? '*unknown*',
    plan: a.plan,
    ip: state.ip,
    ipv6: [],
    suspended: bool(a.suspended),
    suspendreason: a.suspended ? (a.suspendReason ?? 'Unknown') : 'not suspended',
    suspendtime: a.suspendTime,
    is_locked: bool(a.suspendLocked),
    outgoing_mail_suspended: bool(a.outgoingMailSuspended),
    outgoing_mail_hold: bool(a.outgoingMailHold),
    max_email_per_hour: 'unlimited',
    max_defer_fail_percentage: 'unlimited',
    startdate: formatDate(a.startTime),
    unix_startdate: a.startTime,
    diskused: '0M',
    disklimit: 'unlimited',
    inodesused: 0,
    maxpop: 'unlimited',
    maxaddons: 'unlimited',
    maxparked: 'unlimited',
    maxsub: 'unlimited',
    partition: 'home',
    shell: '/bin/bash',
    theme: 'jupiter',
    uid: a.uid,
    mailbox_format: 'maildir',
    backup: 0,
    legacy_backup: 0,
    temporary: 0,
    child_nodes: [],
  };
}

function pickFields(row: Record<string, unknown>, want: string | null): Record<string, unknown> {
  if (!want) return row;
  const fields = want.split(',').map((f) => f.trim()).filter(Boolean);
  return Object.fromEntries(fields.filter((f) => f in row).map((f) => [f, row[f]]));
}

function matches(value: string, search: string, method: string | null): boolean {
  if (method === 'exact') return value === search;
  try {
    return new RegExp(search, 'i').test(value);
  } catch {
    throw new SimFailure(`Invalid regular expression: ${search}`);
  }
}

function suspendLog(user: string): string {
  return `Changing Shell to /bin/false...Changing shell for ${user}.\nShell changed.\nDone\nLocking Password...Locking password for user ${user}.\npasswd: Success\nDone\nSuspending mysql users\nSuspending websites...\nSuspending FTP accounts...\n${user}'s account has been suspended\n`;
}

function unsuspendLog(user: string): string {
  return `Changing shell for ${user}.\nShell changed.\nUnlocking password for user ${user}.\npasswd: Success\nUnsuspending websites...\nUnsuspending FTP accounts...\n${user}'s account is now active\n`;
}

// ---- the functions -----------------------------------------------------------------------------

const listaccts: WhmHandler = (ctx) => {
  const search = ctx.params.get('search');
  const searchtype = ctx.params.get('searchtype');
  const method = ctx.params.get('searchmethod');
  let rows = visibleAccounts(ctx);
  if (search !== null && search !== '') {
    const type = searchtype ?? 'domain';
    const fields: Record<string, (a: SimAccount) => string[]> = {
      domain: (a) => [a.domain],
      owner: (a) => [a.owner],
      user: (a) => [a.user],
      ip: () => [ctx.state.ip],
      package: (a) => [a.plan],
      domain_and_user: (a) => [a.domain, a.user],
    };
    const get = fields[type];
    if (!get) throw new SimFailure('Unknown search type.');
    rows = rows.filter((a) => get(a).some((v) => matches(v, search, method)));
  }
  const want = ctx.params.get('want');
  // Like WHM: when nothing matches, `data` has no `acct` key.
  return rows.length ? { data: { acct: rows.map((a) => pickFields(acctRow(ctx.state, a), want)) } } : { data: {} };
};

const accountsummary: WhmHandler = (ctx) => {
  const user = ctx.params.get('user')?.trim();
  const domain = ctx.params.get('domain')?.trim();
  if (!user && !domain) throw new SimFailure('You must specify a “user” or a “domain”.');
  const target = user ? ctx.state.account(user) : ctx.state.domainOwner(domain!);
  if (!target) throw new SimFailure('Account does not exist.');
  const a = accessibleAccount(ctx, target.user);
  return { data: { acct: [acctRow(ctx.state, a)] } };
};

const getDomainInfo: WhmHandler = (ctx) => {
  const domains = visibleAccounts(ctx).flatMap((a) =>
    a.domains.map((d) => ({
      domain: d.name,
      user: a.user,
      user_owner: a.owner,
      domain_type: d.type,
      parent_domain: d.type === 'main' ? a.domain : d.type === 'sub' ? d.name.slice(d.name.indexOf('.') + 1) : a.domain,
      docroot: d.type === 'main' || d.type === 'parked' ? `/home/${a.user}/public_html` : `/home/${a.user}/${d.name}`,
      ipv4: ctx.state.ip,
      port: '80',
      ipv4_ssl: ctx.state.ip,
      port_ssl: '443',
      ipv6: null,
      ipv6_is_dedicated: 0,
      modsecurity_enabled: 1,
      php_version: 'ea-php82',
    })),
  );
  domains.sort((x, y) => x.domain.localeCompare(y.domain));
  return { data: { domains } };
};

const listresellers: WhmHandler = (ctx) => ({ data: { reseller: [...ctx.state.resellers] } });

const suspendacct: WhmHandler = (ctx) => {
  const a = accessibleAccount(ctx, required(ctx.params, 'user'));
  ctx.state.suspend(a, ctx.params.get('reason') || 'Unknown', ctx.params.get('disallowun') === '1', ctx.now);
  return { output: suspendLog(a.user) };
};

const unsuspendacct: WhmHandler = (ctx) => {
  const a = accessibleAccount(ctx, required(ctx.params, 'user'));
  if (a.suspendLocked && ctx.caller !== 'root') throw new SimFailure('Failed to unsuspend account.');
  ctx.state.unsuspend(a);
  return { output: unsuspendLog(a.user) };
};

function outgoing(change: (a: SimAccount) => void): WhmHandler {
  return (ctx) => {
    const user = required(ctx.params, 'user');
    if (user === 'root') throw new SimFailure('This function does not apply to the root user.');
    change(accessibleAccount(ctx, user));
    return {};
  };
}

const removeacct: WhmHandler = (ctx) => {
  const user = ctx.params.get('user')?.trim() || required(ctx.params, 'username');
  if (user === ctx.caller) throw new SimFailure('You cannot remove your own account.');
  const a = accessibleAccount(ctx, user);
  ctx.state.remove(a.user);
  return { output: `Running pre removal script (/usr/local/cpanel/scripts/prekillacct)......Done\nKilling all processes owned by user......Done\nRemoving user's cPanel Databases......Done\nRemoving DNS zones......${ctx.params.get('keepdns') === '1' ? 'Skipped' : 'Done'}\nAccount Removal Complete!!!...${a.user} account removed......Done\n` };
};

function resellerOnly(ctx: HandlerContext): boolean {
  return ctx.params.get('reseller-only') === '1';
}

const suspendreseller: WhmHandler = (ctx) => {
  if (ctx.caller !== 'root') throw new SimFailure('Access denied');
  const user = required(ctx.params, 'user');
  if (!ctx.state.resellers.has(user)) throw new SimFailure(`“${user}” is not a reseller.`);
  const reason = ctx.params.get('reason') || 'Unknown';
  const locked = ctx.params.get('disallow') === '1';
  const targets = [ctx.state.account(user), ...(resellerOnly(ctx) ? [] : ctx.state.ownedBy(user))].filter((a): a is SimAccount => a !== undefined);
  for (const a of targets) ctx.state.suspend(a, reason, locked, ctx.now);
  return { output: targets.map((a) => suspendLog(a.user)).join('\n') };
};

const unsuspendreseller: WhmHandler = (ctx) => {
  if (ctx.caller !== 'root') throw new SimFailure('Access denied');
  const user = required(ctx.params, 'user');
  if (!ctx.state.resellers.has(user)) throw new SimFailure(`“${user}” is not a reseller.`);
  const targets = [ctx.state.account(user), ...(resellerOnly(ctx) ? [] : ctx.state.ownedBy(user))].filter((a): a is SimAccount => a !== undefined);
  for (const a of targets) ctx.state.unsuspend(a);
  return { output: targets.map((a) => unsuspendLog(a.user)).join('\n') };
};

const createUserSession: WhmHandler = (ctx) => {
  const user = required(ctx.params, 'user');
  const service = required(ctx.params, 'service');
  if (!['cpaneld', 'whostmgrd', 'webmaild'].includes(service)) throw new SimFailure(`Invalid service “${service}”.`);
  const a = accessibleAccount(ctx, user);
  if (a.suspended) throw new SimFailure(`The user “${user}” is suspended.`);
  if (service === 'whostmgrd' && !ctx.state.resellers.has(user)) throw new SimFailure(`The user “${user}” is not a reseller.`);
  const token = `/cpsess${crypto.randomInt(1_000_000_000, 9_999_999_999)}`;
  const session = `${user}:${crypto.randomBytes(24).toString('base64url')}`;
  const app = ctx.params.get('app');
  const url = `${ctx.baseUrl}${token}/login/?session=${encodeURIComponent(session)}${app ? `&goto_uri=${encodeURIComponent(app)}` : ''}`;
  return { data: { url, session, cp_security_token: token, service, expires: ctx.now + 300 } };
};

const uapiCpanel: WhmHandler = (ctx) => {
  const user = required(ctx.params, 'cpanel.user');
  const module = required(ctx.params, 'cpanel.module');
  const func = required(ctx.params, 'cpanel.function');
  const a = accessibleAccount(ctx, user);
  const args = new URLSearchParams([...ctx.params].filter(([k]) => !k.startsWith('cpanel.') && !k.startsWith('api.')));
  const uapi: UapiInner = runUapi({ ...ctx, params: args }, a, module, func);
  return { data: { uapi } };
};

/** Every WHM API 1 function the simulator answers. */
export const whmHandlers: Record<string, WhmHandler> = {
  listaccts,
  accountsummary,
  get_domain_info: getDomainInfo,
  listresellers,
  suspendacct,
  unsuspendacct,
  suspend_outgoing_email: outgoing((a) => (a.outgoingMailSuspended = true)),
  unsuspend_outgoing_email: outgoing((a) => (a.outgoingMailSuspended = false)),
  hold_outgoing_email: outgoing((a) => (a.outgoingMailHold = true)),
  release_outgoing_email: outgoing((a) => (a.outgoingMailHold = false)),
  removeacct,
  suspendreseller,
  unsuspendreseller,
  create_user_session: createUserSession,
  uapi_cpanel: uapiCpanel,
};
