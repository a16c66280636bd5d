import { z } from 'zod';
import { consentMethods, consentStatuses, revokeHows, type ConsentRecord } from './types';

/** A consent record as the JSON API and the evidence bundles show it (one shape for both). */
const iso = (d: Date | null) => (d ? d.toISOString() : null);

export const consentRecordJson = z.object({
  id: z.number().int(),
  listId: z.number().int(),
  email: z.string(),
  status: z.enum(consentStatuses),
  method: z.enum(consentMethods),
  source: z.string().nullable(),
  consentTextVersion: z.number().int().nullable().describe('The consent text version this recipient agreed to'),
  ip: z.string().nullable(),
  userAgent: z.string().nullable(),
  consentedAt: z.string().nullable(),
  confirmedAt: z.string().nullable(),
  confirmedIp: z.string().nullable(),
  revokedAt: z.string().nullable(),
  revokedHow: z.enum(revokeHows).nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

export function toRecordJson(r: ConsentRecord): z.infer<typeof consentRecordJson> {
  return {
    id: r.id,
    listId: r.listId,
    email: r.email,
    status: r.status,
    method: r.method,
    source: r.source,
    consentTextVersion: r.consentTextVersion,
    ip: r.ip,
    userAgent: r.userAgent,
    consentedAt: iso(r.consentedAt),
    confirmedAt: iso(r.confirmedAt),
    confirmedIp: r.confirmedIp,
    revokedAt: iso(r.revokedAt),
    revokedHow: r.revokedHow,
    createdAt: r.createdAt.toISOString(),
    updatedAt: r.updatedAt.toISOString(),
  };
}

