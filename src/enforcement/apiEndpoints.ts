import type { Request } from 'express';
import { z } from 'zod';
import { defineEndpoint, type Endpoint } from '../api/endpoint';
import { ValidationError } from '../lib/errors';
import { pageOf } from '../api/schemas';
import { actionKinds } from './actionKinds';
import type { EnforcementService } from './enforcementService';
import { actionOrigins, actionStatuses, type PanelAction } from './panelActionRepository';
import { accountActionBody, accountIdParam, actionIdParam, actionListApiQuery, approveBody, cancelBody, filtersOf } from './schemas';

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export const actionJson = z.object({
  id: z.number().int(),
  kind: z.enum(actionKinds),
  status: z.enum(actionStatuses),
  origin: z.enum(actionOrigins).describe('ladder (strikes), admin (the admin pages), api, or server_suspension (the dedicated-server rule)'),
  serverId: z.number().int(),
  server: z.string(),
  accountId: z.number().int().nullable().describe('null for server-wide actions'),
  username: z.string().nullable(),
  reason: z.string(),
  params: z.record(z.string(), z.unknown()),
  strikeId: z.number().int().nullable(),
  requestedBy: z.string(),
  attempts: z.number().int(),
  maxAttempts: z.number().int(),
  nextAttemptAt: z.string().nullable(),
  outcomeUnknown: z.boolean().describe('A call was sent whose answer was lost; the panel is read before anything is sent again'),
  lastError: z.string().nullable(),
  result: z.string().nullable(),
  approvedBy: z.string().nullable(),
  approvedAt: z.string().nullable(),
  cancelledBy: z.string().nullable(),
  cancelReason: z.string().nullable(),
  idempotencyKey: z.string(),
  createdAt: z.string().describe('ISO 8601, UTC'),
  updatedAt: z.string(),
  doneAt: z.string().nullable(),
});

/** The request's Idempotency-Key header, checked (it becomes part of the stored key); undefined when absent. */
function idempotencyKeyOf(req: Request): string | undefined {
  const key = req.get('idempotency-key')?.trim();
  if (!key) return undefined;
  if (!/^[A-Za-z0-9._:-]{1,100}$/.test(key)) throw new ValidationError({ 'Idempotency-Key': 'expects 1 to 100 letters, digits, dots, underscores, colons or dashes' });
  return key;
}

export function toActionJson(a: PanelAction): z.infer<typeof actionJson> {
  return {
    id: a.id,
    kind: a.kind,
    status: a.status,
    origin: a.origin,
    serverId: a.serverId,
    server: a.serverName,
    accountId: a.accountId,
    username: a.username,
    reason: a.reason,
    params: a.params,
    strikeId: a.strikeId,
    requestedBy: a.requestedBy,
    attempts: a.attempts,
    maxAttempts: a.maxAttempts,
    nextAttemptAt: iso(a.nextAttemptAt),
    outcomeUnknown: a.outcomeUnknown,
    lastError: a.lastError,
    result: a.result,
    approvedBy: a.approvedBy,
    approvedAt: iso(a.approvedAt),
    cancelledBy: a.cancelledBy,
    cancelReason: a.cancelReason,
    idempotencyKey: a.idempotencyKey,
    createdAt: a.createdAt.toISOString(),
    updatedAt: a.updatedAt.toISOString(),
    doneAt: iso(a.doneAt),
  };
}

/** The enforcement queue for billing systems and admin tooling: admin tokens only (resellers and customers get 403). */
export function enforcementEndpoints(enforcement: EnforcementService): Endpoint[] {
  const tag = 'Enforcement';
  return [
    defineEndpoint({
      method: 'get',
      path: '/enforcement/actions',
      operationId: 'listEnforcementActions',
      summary: 'Panel actions (the enforcement outbox), newest first, with filters and keyset pagination',
      tag,
      roles: ['admin'],
      query: actionListApiQuery,
      response: pageOf(actionJson),
      handler: async ({ query }) => {
        const filters = filtersOf(query);
        const [page, total] = await Promise.all([enforcement.list(filters, { limit: query.limit ?? 50, cursor: query.cursor }), enforcement.total(filters)]);
        return { data: page.items.map(toActionJson), total, nextCursor: page.nextCursor };
      },
    }),
    defineEndpoint({
      method: 'get',
      path: '/enforcement/actions/:id',
      operationId: 'getEnforcementAction',
      summary: 'One panel action',
      tag,
      roles: ['admin'],
      params: actionIdParam,
      response: actionJson,
      errors: [404],
      handler: async ({ params }) => toActionJson(await enforcement.find(params.id)),
    }),
    defineEndpoint({
      method: 'post',
      path: '/accounts/:id/actions',
      operationId: 'requestAccountAction',
      summary: 'Queue a panel action on one account (suspend, unsuspend, hold or release mail, suspend or allow outgoing mail, terminate)',
      description:
        'The action is queued in the outbox and carried out by the panel within a minute; poll GET /enforcement/actions/{id} for the result. terminate_account cannot be undone and needs confirmUsername equal to the account\'s username. 409 when the account is terminated. Send an Idempotency-Key header (1–100 letters, digits, . _ : -) to retry safely: the same key returns the action the first request queued (409 if it was used for a different request).',
      tag,
      roles: ['admin'],
      params: accountIdParam,
      body: accountActionBody,
      status: 201,
      response: actionJson,
      errors: [404, 409],
      handler: async ({ actor, params, body, req }) => toActionJson(await enforcement.requestAccountAction(actor, params.id, { ...body, origin: 'api', idempotencyKey: idempotencyKeyOf(req) }, req.ip ?? null)),
    }),
    defineEndpoint({
      method: 'post',
      path: '/enforcement/actions/:id/approve',
      operationId: 'approveEnforcementAction',
      summary: 'Approve an action awaiting approval (a termination or a server suspension)',
      description: 'confirm must be the account\'s username (or the server\'s name for a server suspension): approving cannot be undone. 409 when the action is not awaiting approval.',
      tag,
      roles: ['admin'],
      params: actionIdParam,
      body: approveBody,
      response: actionJson,
      errors: [404, 409],
      handler: async ({ actor, params, body, req }) => toActionJson(await enforcement.approve(actor, params.id, body.confirm, req.ip ?? null)),
    }),
    defineEndpoint({
      method: 'post',
      path: '/enforcement/actions/:id/retry',
      operationId: 'retryEnforcementAction',
      summary: 'Queue a failed action again with a fresh attempt budget',
      description: '409 unless the action failed.',
      tag,
      roles: ['admin'],
      params: actionIdParam,
      response: actionJson,
      errors: [404, 409],
      handler: async ({ actor, params, req }) => toActionJson(await enforcement.retry(actor, params.id, req.ip ?? null)),
    }),
    defineEndpoint({
      method: 'post',
      path: '/enforcement/actions/:id/cancel',
      operationId: 'cancelEnforcementAction',
      summary: 'Cancel an action that is awaiting approval, pending or failed (a running call cannot be taken back)',
      description: '409 when the action is running, done or already cancelled.',
      tag,
      roles: ['admin'],
      params: actionIdParam,
      body: cancelBody,
      response: actionJson,
      errors: [404, 409],
      handler: async ({ actor, params, body, req }) => toActionJson(await enforcement.cancel(actor, params.id, body.reason, req.ip ?? null)),
    }),
  ];
}
