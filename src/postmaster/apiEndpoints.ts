import { z } from 'zod';
import { defineEndpoint, type Endpoint } from '../api/endpoint';
import { pageOf, toPageJson } from '../api/schemas';
import type { CheckOutcome } from './checkService';
import { postmasterRoutes } from './routeDecider';
import { domainIdParam, filtersOf, statusListApiQuery } from './schemas';
import type { DomainStatus } from './statusQueries';
import type { PostmasterStatusService } from './statusService';
import { verdicts } from './verdict';

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export const postmasterDomainJson = z.object({
  id: z.number().int().describe('The domain id'),
  domain: z.string(),
  accountId: z.number().int(),
  account: z.string().describe("The account's username"),
  owner: z.string().describe('Owning reseller\'s username, or "root"'),
  server: z.string(),
  verdict: z.enum(verdicts).nullable().describe('null: not checked yet'),
  reason: z.string().nullable(),
  verdictSince: z.string().nullable().describe('ISO 8601, UTC: since when the verdict holds'),
  lastCheckedAt: z.string().nullable(),
  failingSince: z.string().nullable().describe('Start of the grace period of a missing or undeliverable domain'),
  notifiedAt: z.string().nullable().describe('When the automatic postmaster notice went out for the current failure'),
  readSentAt: z.string().nullable().describe('The latest verification mail to postmaster@'),
  readConfirmedAt: z.string().nullable().describe('When its link was used'),
});

export const checkOutcomeJson = z.object({
  domainId: z.number().int(),
  domain: z.string(),
  verdict: z.enum(verdicts),
  reason: z.string(),
  route: z
    .object({ route: z.enum(postmasterRoutes), target: z.string().nullable(), finding: z.string(), explanation: z.string() })
    .nullable()
    .describe('How the panel delivers postmaster@; null when the panel could not be read'),
  smtp: z
    .object({ result: z.string(), code: z.number().int().nullable(), enhancedCode: z.string().nullable(), message: z.string(), mxHost: z.string().nullable(), catchAll: z.boolean().nullable() })
    .nullable()
    .describe('The SMTP probe (RCPT TO:<postmaster@domain>, never DATA); null when no probe ran'),
});

export function toPostmasterDomainJson(d: DomainStatus): z.infer<typeof postmasterDomainJson> {
  return {
    id: d.domainId,
    domain: d.domain,
    accountId: d.accountId,
    account: d.username,
    owner: d.ownerUsername,
    server: d.serverName,
    verdict: d.verdict,
    reason: d.reason,
    verdictSince: iso(d.verdictSince),
    lastCheckedAt: iso(d.lastCheckedAt),
    failingSince: iso(d.failingSince),
    notifiedAt: iso(d.notifiedAt),
    readSentAt: iso(d.readSentAt),
    readConfirmedAt: iso(d.readConfirmedAt),
  };
}

export function toCheckOutcomeJson(o: CheckOutcome): z.infer<typeof checkOutcomeJson> {
  return {
    domainId: o.domainId,
    domain: o.domain,
    verdict: o.verdict,
    reason: o.reason,
    route: o.route ? { route: o.route.route, target: o.route.target, finding: o.route.finding, explanation: o.route.explanation } : null,
    smtp: o.probe ? { result: o.probe.result, code: o.probe.code, enhancedCode: o.probe.enhancedCode, message: o.probe.message, mxHost: o.probe.mxHost, catchAll: o.probe.catchAll } : null,
  };
}

/** Postmaster state for mail pipelines and dashboards: every role, scoped like the pages (a reseller: its customers' domains). */
export function postmasterEndpoints(status: PostmasterStatusService): Endpoint[] {
  const tag = 'Postmaster';
  return [
    defineEndpoint({
      method: 'get',
      path: '/postmaster/domains',
      operationId: 'listPostmasterDomains',
      summary: 'Mail-hosting domains with their postmaster@ verdict, by name, with filters and keyset pagination',
      tag,
      query: statusListApiQuery,
      response: pageOf(postmasterDomainJson),
      handler: async ({ actor, query }) => toPageJson(await status.list(actor, filtersOf(query), { limit: query.limit ?? 50, cursor: query.cursor }), toPostmasterDomainJson),
    }),
    defineEndpoint({
      method: 'post',
      path: '/postmaster/domains/:id/check',
      operationId: 'checkPostmasterDomain',
      summary: 'Check one domain now (panel route, SMTP probe without cache, read confirmation) and return the verdict',
      description: 'Stored as history like any check. 404 for a domain outside the token\'s tenancy or one that does not host mail.',
      tag,
      params: domainIdParam,
      response: checkOutcomeJson,
      errors: [404],
      handler: async ({ actor, params }) => toCheckOutcomeJson(await status.checkNow(actor, params.id)),
    }),
  ];
}
