/**
 * Every WHM API 1 function the WHM client calls, whether it only reads (reads are retried on
 * timeouts, connection failures and HTTP 5xx; writes never are: the enforcement outbox retries them
 * with its idempotency key), and the API-token ACL it needs.
 *
 * `aclStatus`:
 * - `reference`: stated in /work/shared/reference/cpanel-whm-api.md (§3.2 ACLs, resolved items).
 * - `verified`: marked UNCONFIRMED in the reference, then checked against cPanel's "Guide to WHM
 *   Plugins - ACL Reference Chart" (https://api.docs.cpanel.net/guides/guide-to-whm-plugins/guide-to-whm-plugins-acl-reference-chart).
 * - `unconfirmed`: no primary source found; a root token (`all`) works. Test a restricted token with
 *   WHM's `myprivs` / a dry call before relying on anything narrower.
 */
export type WhmCallKind = 'read' | 'write';
export type AclStatus = 'reference' | 'verified' | 'unconfirmed';

export interface WhmFunctionInfo {
  kind: WhmCallKind;
  /** ACL a token needs (`all` = root-level). */
  acl: string;
  aclStatus: AclStatus;
  /** PanelAdapter methods that call it. */
  usedBy: string[];
  note: string;
}

export const whmFunctions = {
  listaccts: {
    kind: 'read',
    acl: 'list-accts',
    aclStatus: 'reference',
    usedBy: ['listAccounts'],
    note: 'One call with want=user,domain,owner,email,plan,suspended,suspendreason,outgoing_mail_suspended,outgoing_mail_hold. A reseller token sees only its own accounts.',
  },
  get_domain_info: {
    kind: 'read',
    acl: 'acct-summary',
    aclStatus: 'verified',
    usedBy: ['listDomains'],
    note: 'One call for every domain on the server (main, addon, parked, sub). ACL chart lists get_domain_info under acct-summary.',
  },
  listresellers: {
    kind: 'read',
    acl: 'all',
    aclStatus: 'unconfirmed',
    usedBy: ['listResellers'],
    note: 'data.reseller[] of usernames. The ACL gating it is not documented in the sources checked; use a root token.',
  },
  accountsummary: {
    kind: 'read',
    acl: 'acct-summary',
    aclStatus: 'reference',
    usedBy: ['accountSummary'],
    note: 'data.acct[0]; also listed under acct-summary in the ACL chart.',
  },
  uapi_cpanel: {
    kind: 'read',
    acl: 'cpanel-api',
    aclStatus: 'verified',
    usedBy: ['mailRoutes', 'createMailbox', 'createForwarder'],
    note: 'Runs a UAPI function as the cPanel user (Email::list_pops, list_forwarders, list_domain_forwarders, list_default_address, list_mxs; writes Email::add_pop, add_forwarder). ACL chart: cpanel-api = "Execute cPanel API 1, cPanel API 2, and UAPI functions via WHM". Read/write is decided per UAPI function (see uapiFunctions).',
  },
  suspendacct: { kind: 'write', acl: 'suspend-acct', aclStatus: 'reference', usedBy: ['suspendAccount'], note: 'reason, disallowun=1 stops the owning reseller from unsuspending.' },
  unsuspendacct: { kind: 'write', acl: 'suspend-acct', aclStatus: 'reference', usedBy: ['unsuspendAccount'], note: 'An account suspended with disallowun=1 can be unsuspended only by root.' },
  suspend_outgoing_email: { kind: 'write', acl: 'all', aclStatus: 'unconfirmed', usedBy: ['suspendOutgoingEmail'], note: 'Needs the Send Mail server role. ACL not documented in the sources checked; use a root token.' },
  unsuspend_outgoing_email: { kind: 'write', acl: 'all', aclStatus: 'unconfirmed', usedBy: ['unsuspendOutgoingEmail'], note: 'As suspend_outgoing_email.' },
  hold_outgoing_email: { kind: 'write', acl: 'all', aclStatus: 'unconfirmed', usedBy: ['holdOutgoingEmail'], note: 'As suspend_outgoing_email.' },
  release_outgoing_email: { kind: 'write', acl: 'all', aclStatus: 'unconfirmed', usedBy: ['releaseOutgoingEmail'], note: 'As suspend_outgoing_email.' },
  removeacct: { kind: 'write', acl: 'kill-acct', aclStatus: 'reference', usedBy: ['terminateAccount'], note: 'Irreversible. keepdns=1 keeps the DNS zone.' },
  suspendreseller: { kind: 'write', acl: 'all', aclStatus: 'unconfirmed', usedBy: ['suspendReseller'], note: 'Also suspends every account the reseller owns (reseller-only=0). ACL not documented in the sources checked; use a root token.' },
  unsuspendreseller: { kind: 'write', acl: 'all', aclStatus: 'unconfirmed', usedBy: ['unsuspendReseller'], note: 'As suspendreseller.' },
  create_user_session: {
    kind: 'write',
    acl: 'create-user-session',
    aclStatus: 'verified',
    usedBy: ['createLoginUrl'],
    note: 'service=cpaneld; data.url is a one-time login URL valid for 5 minutes. Never retried: each call mints a session. The ACL lets a token user bypass token restrictions: grant it only to the token that needs "log in as".',
  },
} as const satisfies Record<string, WhmFunctionInfo>;

export type WhmFunctionName = keyof typeof whmFunctions;

/** UAPI functions called through `uapi_cpanel`, with their kind (the WHM ACL is `cpanel-api` for all). */
export const uapiFunctions = {
  'Email::list_pops': { kind: 'read', params: 'skip_main=1 (no domain parameter: lists every mailbox of the account)' },
  'Email::list_forwarders': {
    kind: 'read',
    params:
      'no domain: every forwarder of the account. UNCONFIRMED: the current UAPI spec marks domain as required while cPanel API 2 listforwards documents "no domain = all domains"; if the server answers with a missing-parameter error the client falls back to one call per domain (domains taken from list_mxs/list_default_address) and remembers that for the server.',
  },
  'Email::list_domain_forwarders': { kind: 'read', params: 'no domain: all domain-level forwarders of the account (spec: domain optional)' },
  'Email::list_default_address': { kind: 'read', params: 'user=<cpanel user> (spec: required); no domain: every domain of the account' },
  'Email::list_mxs': { kind: 'read', params: 'no domain: every domain of the account (spec: domain optional)' },
  'Email::add_pop': { kind: 'write', params: 'email (local part), domain, password; sent as a POST form body so the password is not in a URL' },
  'Email::add_forwarder': { kind: 'write', params: 'domain, email (full address), fwdopt=fwd|fail|blackhole|pipe, fwdemail / failmsgs / pipefwd (verified in the UAPI spec)' },
} as const satisfies Record<string, { kind: WhmCallKind; params: string }>;

export type UapiFunctionName = keyof typeof uapiFunctions;

export function isReadFunction(fn: string, uapi?: string): boolean {
  if (fn === 'uapi_cpanel') return uapi !== undefined && (uapiFunctions as Record<string, { kind: WhmCallKind }>)[uapi]?.kind === 'read';
  return (whmFunctions as Record<string, WhmFunctionInfo>)[fn]?.kind === 'read';
}
