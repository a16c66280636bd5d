import type { DomainMailRoutes } from '../panel/panelAdapter';

/** How mail for postmaster@domain is delivered, as the panel has it configured. */
export const postmasterRoutes = ['mailbox', 'forwarder', 'domain_forwarder', 'default_forward', 'default_fail', 'default_blackhole', 'default_pipe', 'remote_mx', 'null_mx', 'none', 'unknown'] as const;
export type PostmasterRoute = (typeof postmasterRoutes)[number];

/** What the panel configuration alone says; the SMTP probe and the read confirmation add to it. */
export type ConfigFinding = 'delivered' | 'missing' | 'undeliverable' | 'probe_only' | 'not_applicable';

export interface RouteDecision {
  route: PostmasterRoute;
  /** Where it goes: the mailbox, the forwarder's target(s), the other domain, the catch-all's value. */
  target: string | null;
  finding: ConfigFinding;
  /** Plain words for the customer and the evidence. */
  explanation: string;
}

const isFail = (v: string) => v.trim().toLowerCase().startsWith(':fail:');
const isBlackhole = (v: string) => v.trim().toLowerCase().startsWith(':blackhole:');
const isPipe = (v: string) => v.trim().startsWith('|');

/** A null MX (RFC 7505): one MX whose exchanger is "." — the domain takes no mail. */
export function isNullMx(routes: Pick<DomainMailRoutes, 'mx'>): boolean {
  return routes.mx.length === 1 && (routes.mx[0]!.host === '.' || routes.mx[0]!.host === '');
}

/**
 * Decides the route of postmaster@domain from the panel's configuration, in the order cPanel's Exim
 * applies it: no mail at all (null MX), mail handled elsewhere (remote MX: only a probe can tell),
 * a mailbox, a forwarder, a domain forwarder, then the domain's default address (catch-all).
 * The local part is compared case-insensitively (RFC 5321 §4.5.1).
 */
export function decideRoute(routes: DomainMailRoutes): RouteDecision {
  const domain = routes.domain.toLowerCase();
  const address = `postmaster@${domain}`;
  if (isNullMx(routes)) return { route: 'null_mx', target: null, finding: 'not_applicable', explanation: `${domain} publishes a null MX: it receives no mail, so no postmaster@ is needed` };
  if (routes.mxRouting === 'remote') {
    const hosts = routes.mx.map((m) => m.host).join(', ');
    return { route: 'remote_mx', target: hosts || null, finding: 'probe_only', explanation: `mail for ${domain} is handled by another server (${hosts || 'remote MX'}); only an SMTP test can check postmaster@` };
  }
  const mailbox = routes.mailboxes.find((m) => m.toLowerCase() === address);
  if (mailbox) return { route: 'mailbox', target: mailbox.toLowerCase(), finding: 'delivered', explanation: `${address} is a mailbox` };

  const forwards = routes.forwarders.filter((f) => f.from.toLowerCase() === address).map((f) => f.to.trim());
  if (forwards.length) {
    const target = forwards.join(', ');
    const live = forwards.filter((t) => !isFail(t) && !isBlackhole(t));
    if (!live.length) {
      return forwards.some(isFail)
        ? { route: 'forwarder', target, finding: 'missing', explanation: `${address} is set to fail: mail to it bounces` }
        : { route: 'forwarder', target, finding: 'undeliverable', explanation: `${address} discards its mail (blackhole): nobody reads it` };
    }
    return { route: 'forwarder', target: live.join(', '), finding: 'delivered', explanation: `${address} forwards to ${live.join(', ')}` };
  }

  if (routes.domainForwarder) {
    return { route: 'domain_forwarder', target: routes.domainForwarder, finding: 'delivered', explanation: `all mail for ${domain}, postmaster@ included, is forwarded to ${routes.domainForwarder}` };
  }

  const fallback = routes.defaultAddress?.trim() ?? '';
  if (!fallback) return { route: 'none', target: null, finding: 'missing', explanation: `${address} has no mailbox, forwarder or default address` };
  if (isFail(fallback)) return { route: 'default_fail', target: fallback, finding: 'missing', explanation: `${address} does not exist: the default address rejects it (${fallback})` };
  if (isBlackhole(fallback)) return { route: 'default_blackhole', target: fallback, finding: 'undeliverable', explanation: `${address} only reaches the default address, which discards mail (:blackhole:): accepted but never read` };
  if (isPipe(fallback)) return { route: 'default_pipe', target: fallback, finding: 'delivered', explanation: `${address} reaches the default address, which pipes mail to a program; a person must still read it (the read confirmation shows whether one does)` };
  return { route: 'default_forward', target: fallback, finding: 'delivered', explanation: `${address} has no mailbox of its own but reaches the default address (catch-all) ${fallback}` };
}
