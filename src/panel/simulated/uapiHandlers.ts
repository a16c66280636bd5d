import type { SimAccount } from './simState';
import { SimFailure, required, type HandlerContext } from './handlerContext';

/** The UAPI result object that uapi_cpanel returns at `data.uapi`. */
export interface UapiInner {
  status: 0 | 1;
  errors: string[] | null;
  messages: string[] | null;
  warnings: string[] | null;
  metadata: Record<string, unknown>;
  data: unknown;
}

type UapiHandler = (ctx: HandlerContext, a: SimAccount) => { data: unknown; metadata?: Record<string, unknown> };

function ownDomain(a: SimAccount, domain: string): string {
  const d = domain.trim().toLowerCase();
  if (!a.domains.some((x) => x.name === d)) throw new SimFailure(`You do not control a domain named “${d}”.`);
  return d;
}

function optionalDomain(ctx: HandlerContext, a: SimAccount): string | null {
  const d = ctx.params.get('domain');
  return d ? ownDomain(a, d) : null;
}

function regexFilter(ctx: HandlerContext): (s: string) => boolean {
  const r = ctx.params.get('regex');
  if (!r) return () => true;
  let re: RegExp;
  try {
    re = new RegExp(r, 'i');
  } catch {
    throw new SimFailure(`Invalid regular expression: ${r}`);
  }
  return (s) => re.test(s);
}

function domainOf(address: string): string {
  return address.slice(address.lastIndexOf('@') + 1);
}

const transformed = { transformed: 1 };

const listPops: UapiHandler = (ctx, a) => {
  const keep = regexFilter(ctx);
  const rows = [...a.mailboxes].sort().map((email) => ({ email, login: email, suspended_incoming: 0, suspended_login: 0 }));
  if (ctx.params.get('skip_main') !== '1') rows.unshift({ email: a.user, login: a.user, suspended_incoming: 0, suspended_login: 0 });
  return { data: rows.filter((r) => keep(r.email)), metadata: transformed };
};

const listForwarders: UapiHandler = (ctx, a) => {
  if (ctx.forwardersRequireDomain && !ctx.params.get('domain')) throw new SimFailure('The parameter “domain” is required.');
  const domain = optionalDomain(ctx, a);
  const keep = regexFilter(ctx);
  const rows = a.forwarders
    .filter((f) => domain === null || domainOf(f.from) === domain)
    .filter((f) => keep(f.from) || keep(f.to))
    .sort((x, y) => x.from.localeCompare(y.from))
    .map((f) => ({
      dest: f.from,
      forward: f.to,
      html_dest: f.from,
      html_forward: f.to,
      uri_dest: encodeURIComponent(f.from),
      uri_forward: encodeURIComponent(f.to),
    }));
  return { data: rows, metadata: transformed };
};

const listDomainForwarders: UapiHandler = (ctx, a) => {
  const domain = optionalDomain(ctx, a);
  const rows = [...a.domainForwarders].filter(([d]) => domain === null || d === domain).map(([dest, forward]) => ({ dest, forward }));
  return { data: rows, metadata: transformed };
};

const listDefaultAddress: UapiHandler = (ctx, a) => {
  const user = required(ctx.params, 'user');
  if (user !== a.user) throw new SimFailure(`You do not have access to the user “${user}”.`);
  const domain = optionalDomain(ctx, a);
  const rows = a.domains.filter((d) => domain === null || d.name === domain).map((d) => ({ domain: d.name, defaultaddress: ctx.state.defaultAddressFor(a, d.name) }));
  return { data: rows, metadata: transformed };
};

const listMxs: UapiHandler = (ctx, a) => {
  const domain = optionalDomain(ctx, a);
  const rows = a.domains
    .filter((d) => domain === null || d.name === domain)
    .map((d) => {
      const entries = [...ctx.state.mxFor(a, d.name)].sort((x, y) => x.priority - y.priority);
      const local = entries.length > 0 && entries.every((e) => e.host === d.name || e.host.endsWith(`.${d.name}`) || e.host === a.domain);
      const kind = local ? 'local' : 'remote';
      return {
        domain: d.name,
        mx: entries[0]?.host ?? '',
        mxcheck: kind,
        detected: kind,
        local: local ? 1 : 0,
        remote: local ? 0 : 1,
        secondary: 0,
        alwaysaccept: local ? 1 : 0,
        status: 1,
        statusmsg: 'Fetched MX List',
        entries: entries.map((e, i) => ({ domain: d.name, mx: e.host, priority: e.priority, entrycount: i + 1, row: i % 2 === 0 ? 'odd' : 'even' })),
      };
    });
  return { data: rows, metadata: transformed };
};

const addPop: UapiHandler = (ctx, a) => {
  const email = required(ctx.params, 'email').toLowerCase();
  if (!ctx.params.get('password') && !ctx.params.get('password_hash')) throw new SimFailure('The parameter “password” is required.');
  const local = email.includes('@') ? email.slice(0, email.lastIndexOf('@')) : email;
  const domain = ownDomain(a, email.includes('@') ? domainOf(email) : (ctx.params.get('domain') ?? a.domain));
  if (local === 'cpanel') throw new SimFailure('The name “cpanel” is reserved.');
  if (!/^[a-z0-9!#$%&'*+/=?^_`{|}~.-]+$/.test(local)) throw new SimFailure(`“${local}” is not a valid email account name.`);
  const address = `${local}@${domain}`;
  if (a.mailboxes.includes(address)) throw new SimFailure(`The account ${address} already exists!`);
  a.mailboxes.push(address);
  return { data: `${local}+${domain}` };
};

const addForwarder: UapiHandler = (ctx, a) => {
  const domain = ownDomain(a, required(ctx.params, 'domain'));
  const emailParam = required(ctx.params, 'email').toLowerCase();
  const from = emailParam.includes('@') ? emailParam : `${emailParam}@${domain}`;
  if (domainOf(from) !== domain) throw new SimFailure(`The address “${from}” is not on the domain “${domain}”.`);
  const fwdopt = required(ctx.params, 'fwdopt');
  let targets: string[];
  switch (fwdopt) {
    case 'fwd':
      targets = required(ctx.params, 'fwdemail').split(',').map((t) => t.trim()).filter(Boolean);
      break;
    case 'fail':
      targets = [`:fail: ${ctx.params.get('failmsgs') || 'No such person at this address'}`];
      break;
    case 'blackhole':
      targets = [':blackhole:'];
      break;
    case 'pipe':
      targets = [`|${required(ctx.params, 'pipefwd')}`];
      break;
    case 'system':
      targets = [required(ctx.params, 'fwdsystem')];
      break;
    default:
      throw new SimFailure(`Invalid “fwdopt” value “${fwdopt}”.`);
  }
  const added = targets.filter((to) => !a.forwarders.some((f) => f.from === from && f.to === to));
  for (const to of added) a.forwarders.push({ from, to });
  return { data: targets.map((forward) => ({ email: from, domain, forward })) };
};

const handlers: Record<string, UapiHandler> = {
  'Email::list_pops': listPops,
  'Email::list_forwarders': listForwarders,
  'Email::list_domain_forwarders': listDomainForwarders,
  'Email::list_default_address': listDefaultAddress,
  'Email::list_mxs': listMxs,
  'Email::add_pop': addPop,
  'Email::add_forwarder': addForwarder,
};

/** Runs one UAPI function as account `a`; failures become status 0 with `errors`, like cPanel. */
export function runUapi(ctx: HandlerContext, a: SimAccount, module: string, func: string): UapiInner {
  const name = `${module}::${func}`;
  const fail = (message: string): UapiInner => ({ status: 0, errors: [message], messages: null, warnings: null, metadata: {}, data: null });
  const handler = handlers[name];
  if (!handler) return fail(`The system could not find the function “${func}” in the module “${module}”.`);
  if (ctx.failUapi(name)) return fail(`Simulated failure of ${name}.`);
  try {
    const { data, metadata } = handler(ctx, a);
    return { status: 1, errors: null, messages: null, warnings: null, metadata: metadata ?? {}, data };
  } catch (err) {
    if (err instanceof SimFailure) return fail(err.message);
    throw err;
  }
}
