import { z } from 'zod';
import { defineEndpoint, type Endpoint } from '../api/endpoint';
import { pageOf, toPageJson } from '../api/schemas';
import type { ConsentService } from './consentService';
import { checkBody, listIdParam, listQuerySchema, recordQuerySchema } from './schemas';
import { consentMethods, consentStatuses, revokeHows, type ConsentList, type ConsentRecord } from './types';

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export const consentListJson = z.object({
  id: z.number().int(),
  name: z.string(),
  accountId: z.number().int(),
  account: z.string(),
  domainId: z.number().int(),
  domain: z.string().describe('The sending domain'),
  doubleOptIn: z.boolean(),
  textVersion: z.number().int().describe('Current consent text version'),
  text: z.string(),
  records: z.number().int(),
  confirmed: z.number().int(),
  createdAt: z.string(),
});

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

const addressList = z.array(z.string());
export const checkResultJson = z.object({
  sender: z.string(),
  counts: z.object({ confirmed: z.number().int(), pending: z.number().int(), revoked: z.number().int(), unknown: z.number().int(), invalid: z.number().int() }),
  confirmed: addressList.describe('Have a confirmed record in a list of this sending domain'),
  pending: addressList.describe('Recorded but not confirmed: do not mail'),
  revoked: addressList.describe('Consent withdrawn: do not mail'),
  unknown: addressList.describe('No record: no permission'),
  invalid: addressList.describe('Entries that are not email addresses, as given'),
});

export function toListJson(l: ConsentList): z.infer<typeof consentListJson> {
  return { id: l.id, name: l.name, accountId: l.accountId, account: l.accountUsername, domainId: l.domainId, domain: l.domainName, doubleOptIn: l.doubleOptIn, textVersion: l.textVersion, text: l.text, records: l.recordCount, confirmed: l.confirmedCount, createdAt: l.createdAt.toISOString() };
}

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

export function consentEndpoints(consent: ConsentService): Endpoint[] {
  return [
    defineEndpoint({
      method: 'get',
      path: '/consent/lists',
      operationId: 'listConsentLists',
      summary: 'Consent lists in the token\'s tenancy',
      tag: 'Consent',
      query: listQuerySchema,
      response: pageOf(consentListJson),
      handler: async ({ actor, query }) => toPageJson(await consent.listLists(actor, query), toListJson),
    }),
    defineEndpoint({
      method: 'get',
      path: '/consent/lists/:id/records',
      operationId: 'listConsentRecords',
      summary: 'Records of one consent list, with search, status filter and keyset pagination (404 outside the token\'s tenancy)',
      tag: 'Consent',
      params: listIdParam,
      query: recordQuerySchema,
      response: pageOf(consentRecordJson),
      errors: [404],
      handler: async ({ actor, params, query }) => toPageJson(await consent.listRecords(actor, params.id, query), toRecordJson),
    }),
    defineEndpoint({
      method: 'post',
      path: '/consent/check',
      operationId: 'checkRecipients',
      summary: 'Pre-send check: which recipients have confirmed consent for a sending domain',
      description: 'An address counts as confirmed only with a confirmed record in a consent list of that sending domain in the caller\'s tenancy. Addresses are compared case-insensitively; duplicates are counted once.',
      tag: 'Consent',
      body: checkBody,
      response: checkResultJson,
      errors: [404],
      handler: async ({ actor, body }) => consent.check(actor, body.sender, body.recipients),
    }),
  ];
}
