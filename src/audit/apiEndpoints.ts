import { z } from 'zod';
import { defineEndpoint, type Endpoint } from '../api/endpoint';
import { pageOf, toPageJson } from '../api/schemas';
import { pageQuery } from '../tenancy/schemas';
import type { AuditEntry } from './auditRepository';
import type { AuditService } from './auditService';
import { auditFilterShape, filtersOf } from './schemas';

export const auditEntryJson = z.object({
  seq: z.number().int().describe('Position in the chain: 1, 2, 3, …'),
  at: z.string().describe('ISO 8601, UTC'),
  actor: z.string().describe('Login of whoever acted, "system" or "panel-sso"'),
  actorUserId: z.number().int().nullable(),
  action: z.string(),
  subjectType: z.string().nullable(),
  subjectId: z.string().nullable(),
  data: z.record(z.string(), z.unknown()).nullable(),
  ip: z.string().nullable(),
  prevHash: z.string().describe('Hash of the entry before (64 zeros for entry 1)'),
  hash: z.string().describe('sha256(prevHash + canonical JSON of the stored fields)'),
});

function toAuditJson(e: AuditEntry): z.infer<typeof auditEntryJson> {
  return { seq: e.seq, at: e.at.toISOString(), actor: e.actorLogin, actorUserId: e.actorUserId, action: e.action, subjectType: e.subjectType, subjectId: e.subjectId, data: e.data, ip: e.ip, prevHash: e.prevHash, hash: e.hash };
}

export function auditEndpoints(audit: AuditService): Endpoint[] {
  return [
    defineEndpoint({
      method: 'get',
      path: '/audit',
      operationId: 'listAuditEntries',
      summary: 'The audit log of privileged actions, newest first (admin tokens)',
      description: 'The same filters as admin → Audit log. Entries are hash-chained; `npm run cli -- audit verify` or the page\'s Verify chain checks the chain.',
      tag: 'Audit',
      roles: ['admin'],
      query: z.object({ ...auditFilterShape, ...pageQuery }),
      response: pageOf(auditEntryJson),
      handler: async ({ actor, query }) => toPageJson(await audit.list(actor, filtersOf(query), { limit: query.limit ?? 50, cursor: query.cursor }), toAuditJson),
    }),
  ];
}
