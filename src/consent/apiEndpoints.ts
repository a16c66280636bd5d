import { z } from 'zod';
import { defineEndpoint, type Endpoint } from '../api/endpoint';
import { pageOf, toPageJson } from '../api/schemas';
import { ValidationError } from '../lib/errors';
import type { TenancyService } from '../tenancy/tenancyService';
import type { ConsentService } from './consentService';
import { checkBody, confirmForm, listBody, listIdParam, listQuerySchema, recordBody, recordQuerySchema, revokeForm, statsQuerySchema, textForm } from './schemas';
import type { AccountConsentStats } from './statsRepository';
import type { ConsentStatsService } from './statsService';
import { consentRecordJson, toRecordJson } from './recordJson';
import type { ConsentEvent, ConsentList } from './types';

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


export const consentEventJson = z.object({
  seq: z.number().int().describe('Position in the account\'s hash chain'),
  type: z.string().describe('e.g. record_added, record_confirmed, record_revoked, record_reconsented'),
  at: z.string(),
  actor: z.string().describe('Login that made the change, or "recipient"'),
  data: z.record(z.string(), z.unknown()).nullable().describe('The evidence the event recorded'),
  hash: z.string(),
});

export const consentRecordDetailJson = consentRecordJson.extend({
  listName: z.string(),
  domain: z.string().describe('The list\'s sending domain'),
  events: z.array(consentEventJson).describe('The record\'s timeline, oldest first'),
});

export const consentStatsJson = z.object({
  accountId: z.number().int(),
  account: z.string(),
  owner: z.string().describe('Owning reseller\'s username, or "root"'),
  isReseller: z.boolean(),
  lists: z.number().int(),
  records: z.number().int(),
  confirmed: z.number().int(),
  confirmedShare: z.number().nullable().describe('Confirmed records as a percentage of all records (one decimal); null without records'),
  pending: z.number().int(),
  revoked: z.number().int().describe('Revocations: records whose consent was withdrawn'),
  lastActivityAt: z.string().nullable().describe('Time of the latest consent change of the account'),
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

export function toEventJson(e: ConsentEvent): z.infer<typeof consentEventJson> {
  return { seq: e.seq, type: e.type, at: e.at.toISOString(), actor: e.actor, data: e.data, hash: e.hash };
}

export function toStatsJson(s: AccountConsentStats): z.infer<typeof consentStatsJson> {
  return {
    accountId: s.accountId,
    account: s.username,
    owner: s.ownerUsername,
    isReseller: s.isReseller,
    lists: s.lists,
    records: s.records,
    confirmed: s.confirmed,
    confirmedShare: s.confirmedShare,
    pending: s.pending,
    revoked: s.revoked,
    lastActivityAt: iso(s.lastActivityAt),
  };
}

/**
 * Roles, as in the web UI: customers read and write their own lists and records (the customer pages);
 * admins may read them (the provider holds the data) but change nothing (the admin consent page is
 * read-only); resellers see statistics and list metadata, never an address (so no records, no check).
 */
const addressReaders = ['customer', 'admin'] as const;
const writers = ['customer'] as const;

export function consentEndpoints(consent: ConsentService, tenancy: TenancyService): Endpoint[] {
  const recordDetail = async (actor: Parameters<ConsentService['getRecord']>[0], id: number) => {
    const [record, events] = await Promise.all([consent.getRecord(actor, id), consent.timeline(actor, id)]);
    return { ...toRecordJson(record), listName: record.listName, domain: record.domainName, events: events.map(toEventJson) };
  };
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
      roles: [...addressReaders],
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
      roles: [...addressReaders],
      body: checkBody,
      response: checkResultJson,
      errors: [404],
      handler: async ({ actor, body }) => consent.check(actor, body.sender, body.recipients),
    }),
    defineEndpoint({
      method: 'get',
      path: '/consent/lists/:id',
      operationId: 'getConsentList',
      summary: 'One consent list with its current text and record counts (404 outside the token\'s tenancy)',
      tag: 'Consent',
      params: listIdParam,
      response: consentListJson,
      errors: [404],
      handler: async ({ actor, params }) => toListJson(await consent.getList(actor, params.id)),
    }),
    defineEndpoint({
      method: 'post',
      path: '/consent/lists',
      operationId: 'createConsentList',
      summary: 'Create a consent list for one of the customer\'s own sending domains, with consent text version 1',
      description: 'Customer tokens only: lists belong to the customer\'s own domains. Give the domain by `domainId` or by `domain` name, not both; another account\'s domain is a 422 naming the field.',
      tag: 'Consent',
      roles: [...writers],
      body: listBody,
      response: consentListJson,
      handler: async ({ actor, body }) => {
        if (body.domainId !== undefined && body.domain !== undefined) throw new ValidationError({ domain: 'give domainId or domain, not both' });
        let domainId = body.domainId;
        if (domainId === undefined) {
          const domain = await tenancy.findDomainByName(actor, body.domain!);
          if (!domain) throw new ValidationError({ domain: 'is not one of your domains: give a sending domain of your own account' });
          domainId = domain.id;
        }
        const id = await consent.createList(actor, { name: body.name, domainId, doubleOptIn: body.doubleOptIn, text: body.text });
        return toListJson(await consent.getList(actor, id));
      },
    }),
    defineEndpoint({
      method: 'put',
      path: '/consent/lists/:id/text',
      operationId: 'updateConsentText',
      summary: 'Publish a new version of the list\'s consent text; existing records keep the version they agreed to',
      description: 'Customer tokens only. An unchanged text is a 422; a concurrent change is a 409.',
      tag: 'Consent',
      roles: [...writers],
      params: listIdParam,
      body: textForm,
      response: consentListJson,
      errors: [404, 409],
      handler: async ({ actor, params, body }) => {
        await consent.updateText(actor, params.id, body.text);
        return toListJson(await consent.getList(actor, params.id));
      },
    }),
    defineEndpoint({
      method: 'post',
      path: '/consent/lists/:id/records',
      operationId: 'addConsentRecord',
      summary: 'Add a record (one recipient) to a consent list',
      description:
        'Customer tokens only. `method` defaults to `api`. A `confirmed` record needs evidence: `consentedAt` (not in the future) and a method other than `manual`; otherwise it is a 422 naming the field. An address already in the list is a 409 with `details.field` = `email`.',
      tag: 'Consent',
      roles: [...writers],
      params: listIdParam,
      body: recordBody,
      response: consentRecordDetailJson,
      errors: [404, 409],
      handler: async ({ actor, params, body }) => recordDetail(actor, await consent.addRecord(actor, params.id, body)),
    }),
    defineEndpoint({
      method: 'get',
      path: '/consent/records/:id',
      operationId: 'getConsentRecord',
      summary: 'One consent record with its evidence and timeline (404 outside the token\'s tenancy)',
      tag: 'Consent',
      roles: [...addressReaders],
      params: listIdParam,
      response: consentRecordDetailJson,
      errors: [404],
      handler: async ({ actor, params }) => recordDetail(actor, params.id),
    }),
    defineEndpoint({
      method: 'post',
      path: '/consent/records/:id/confirm',
      operationId: 'confirmConsentRecord',
      summary: 'Record confirmed consent with evidence; for a revoked record this is the new consent that lifts the revocation',
      description: 'Customer tokens only. Needs `method` (not manual) and `consentedAt`; an already confirmed record is a 409.',
      tag: 'Consent',
      roles: [...writers],
      params: listIdParam,
      body: confirmForm,
      response: consentRecordDetailJson,
      errors: [404, 409],
      handler: async ({ actor, params, body }) => {
        await consent.confirmRecord(actor, params.id, body);
        return recordDetail(actor, params.id);
      },
    }),
    defineEndpoint({
      method: 'post',
      path: '/consent/records/:id/revoke',
      operationId: 'revokeConsentRecord',
      summary: 'Revoke consent: the address stays revoked until a new confirmed consent',
      description: 'Customer tokens only. `how` says how the recipient withdrew (manual, unsubscribe, complaint); an already revoked record is a 409.',
      tag: 'Consent',
      roles: [...writers],
      params: listIdParam,
      body: revokeForm,
      response: consentRecordDetailJson,
      errors: [404, 409],
      handler: async ({ actor, params, body }) => {
        await consent.revokeRecord(actor, params.id, body.how);
        return recordDetail(actor, params.id);
      },
    }),
  ];
}

export function consentStatsEndpoints(stats: ConsentStatsService): Endpoint[] {
  return [
    defineEndpoint({
      method: 'get',
      path: '/consent/stats',
      operationId: 'listConsentStats',
      summary: 'Consent statistics per account: lists, records, confirmed share, pending, revocations, last activity',
      description: 'Admins get every account; resellers the accounts below them (not their own); customers their own. Counts only: no address.',
      tag: 'Consent',
      query: statsQuerySchema,
      response: pageOf(consentStatsJson),
      handler: async ({ actor, query }) => toPageJson(await stats.list(actor, query), toStatsJson),
    }),
  ];
}
