import { z } from 'zod';
import { defineEndpoint, type Endpoint } from '../api/endpoint';
import { pageOf, toPageJson } from '../api/schemas';
import { accountQuerySchema, domainQuerySchema, idParamSchema } from './schemas';
import type { TenancyService } from './tenancyService';
import { accountStatuses, domainTypes, outgoingMailStates, type Account, type Domain } from './types';

export const accountJson = z
  .object({
    id: z.number().int(),
    username: z.string(),
    server: z.string(),
    owner: z.string().describe('Owning reseller\'s username, or "root"'),
    ownerId: z.number().int().nullable(),
    isReseller: z.boolean(),
    contactEmail: z.string().nullable(),
    plan: z.string().nullable(),
    status: z.enum(accountStatuses),
    outgoingMail: z.enum(outgoingMailStates),
    strikes: z.number().int(),
    domainCount: z.number().int(),
    createdAt: z.string().describe('ISO 8601, UTC'),
  });

export const domainJson = z
  .object({
    id: z.number().int(),
    name: z.string(),
    type: z.enum(domainTypes),
    mailHosted: z.boolean(),
    accountId: z.number().int(),
    account: z.string(),
    server: z.string(),
    createdAt: z.string(),
  });

export function toAccountJson(a: Account): z.infer<typeof accountJson> {
  return {
    id: a.id,
    username: a.username,
    server: a.serverName,
    owner: a.ownerUsername,
    ownerId: a.ownerAccountId,
    isReseller: a.isReseller,
    contactEmail: a.contactEmail,
    plan: a.plan,
    status: a.status,
    outgoingMail: a.outgoingMail,
    strikes: a.strikes,
    domainCount: a.domainCount,
    createdAt: a.createdAt.toISOString(),
  };
}

export function toDomainJson(d: Domain): z.infer<typeof domainJson> {
  return { id: d.id, name: d.name, type: d.type, mailHosted: d.mailHosted, accountId: d.accountId, account: d.accountUsername, server: d.serverName, createdAt: d.createdAt.toISOString() };
}

export function tenancyEndpoints(tenancy: TenancyService): Endpoint[] {
  return [
    defineEndpoint({
      method: 'get',
      path: '/accounts',
      operationId: 'listAccounts',
      summary: 'List accounts in the token\'s tenancy',
      description: 'Admins see every account; resellers the accounts they own (transitively, not their own); customers their own.',
      tag: 'Accounts',
      query: accountQuerySchema,
      response: pageOf(accountJson),
      handler: async ({ actor, query }) => toPageJson(await tenancy.listAccounts(actor, query), toAccountJson),
    }),
    defineEndpoint({
      method: 'get',
      path: '/accounts/:id',
      operationId: 'getAccount',
      summary: 'One account (404 when it is outside the token\'s tenancy)',
      tag: 'Accounts',
      params: idParamSchema,
      response: accountJson,
      errors: [404],
      handler: async ({ actor, params }) => toAccountJson(await tenancy.getAccount(actor, params.id)),
    }),
    defineEndpoint({
      method: 'get',
      path: '/domains',
      operationId: 'listDomains',
      summary: 'List domains in the token\'s tenancy, with filters and keyset pagination',
      tag: 'Domains',
      query: domainQuerySchema,
      response: pageOf(domainJson),
      handler: async ({ actor, query }) => toPageJson(await tenancy.listDomains(actor, query), toDomainJson),
    }),
    defineEndpoint({
      method: 'get',
      path: '/domains/:id',
      operationId: 'getDomain',
      summary: 'One domain (404 when it is outside the token\'s tenancy)',
      tag: 'Domains',
      params: idParamSchema,
      response: domainJson,
      errors: [404],
      handler: async ({ actor, params }) => toDomainJson(await tenancy.getDomain(actor, params.id)),
    }),
  ];
}
