import { z } from 'zod';
import { defineEndpoint, type Endpoint } from '../api/endpoint';
import { pageOf, toPageJson } from '../api/schemas';
import { ValidationError } from '../lib/errors';
import type { BlockService } from './blockService';
import { blockAddBody, blockIdParam, blockLiftBody, blockListQuery } from './schemas';
import { blockReasons, blockStatuses, syncStates, type IpBlock } from './types';

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export const blockJson = z.object({
  id: z.number().int(),
  address: z.string().describe('Canonical address or network (CIDR)'),
  family: z.number().int().describe('4 or 6'),
  status: z.enum(blockStatuses),
  reason: z.enum(blockReasons),
  reasonText: z.string().nullable(),
  trigger: z.string().nullable().describe('What raised it, e.g. lfd\'s PS_LIMIT or LF_SSHD; null when entered by hand'),
  permanent: z.boolean(),
  expiresAt: z.string().nullable().describe('null when permanent'),
  createdAt: z.string(),
  createdBy: z.string(),
  serverId: z.number().int().nullable(),
  server: z.string().nullable(),
  liftedAt: z.string().nullable(),
  liftedBy: z.string().nullable(),
  liftReason: z.string().nullable(),
  syncState: z.enum(syncStates).describe('Firewall state for the block\'s status: pending, synced, failed (see syncError), not_configured (FIREWALL=none)'),
  syncError: z.string().nullable(),
  syncedAt: z.string().nullable(),
  evidence: z.object({
    logLines: z.array(z.string()),
    count: z.number().int(),
    firstSeen: z.string().nullable(),
    lastSeen: z.string().nullable(),
    ports: z.array(z.string()).describe('Empty: all ports'),
    blockedAt: z.array(z.string()).describe('Each time the address was blocked under this record'),
    direction: z.string().optional(),
    reportedBy: z.string().optional(),
    permanentBecause: z.string().optional(),
  }),
});

export function toBlockJson(b: IpBlock): z.infer<typeof blockJson> {
  return {
    id: b.id,
    address: b.address,
    family: b.family,
    status: b.status,
    reason: b.reason,
    reasonText: b.reasonText,
    trigger: b.trigger,
    permanent: b.expiresAt === null,
    expiresAt: iso(b.expiresAt),
    createdAt: b.createdAt.toISOString(),
    createdBy: b.createdBy,
    serverId: b.serverId,
    server: b.serverName,
    liftedAt: iso(b.liftedAt),
    liftedBy: b.liftedBy,
    liftReason: b.liftReason,
    syncState: b.syncState,
    syncError: b.syncError,
    syncedAt: iso(b.syncedAt),
    evidence: b.evidence,
  };
}

const addResultJson = blockJson.extend({
  outcome: z.enum(['created', 'extended']).describe('extended: the address already had an active block, which now lasts longer'),
  permanentBecause: z.string().nullable().describe('Set when a temporary block was made permanent as a repeat offender'),
});

/** The block list in the JSON API: admin tokens only. */
export function blockEndpoints(blocks: BlockService): Endpoint[] {
  return [
    defineEndpoint({
      method: 'get',
      path: '/blocks',
      operationId: 'listBlocks',
      summary: 'IP blocks, newest first, with filters and keyset pagination',
      tag: 'IP blocks',
      roles: ['admin'],
      query: blockListQuery,
      response: pageOf(blockJson),
      handler: async ({ actor, query }) =>
        toPageJson(await blocks.list(actor, { status: query.status, reason: query.reason, q: query.q, serverId: query.server, sync: query.sync }, { limit: query.limit ?? 50, cursor: query.cursor }), toBlockJson),
    }),
    defineEndpoint({
      method: 'get',
      path: '/blocks/:id',
      operationId: 'getBlock',
      summary: 'One IP block with its evidence',
      tag: 'IP blocks',
      roles: ['admin'],
      params: blockIdParam,
      response: blockJson,
      errors: [404],
      handler: async ({ actor, params }) => toBlockJson((await blocks.get(actor, params.id)).block),
    }),
    defineEndpoint({
      method: 'post',
      path: '/blocks',
      operationId: 'addBlock',
      summary: 'Block an address or network (an address that is already blocked has its block extended)',
      description: 'Give ttlSeconds for a temporary block or permanent: true. The block is applied to the firewall (FIREWALL) after it is recorded; syncState says whether that worked. A temporary block of an address blocked BLOCK_REPEAT_COUNT times within BLOCK_REPEAT_HOURS becomes permanent (permanentBecause).',
      tag: 'IP blocks',
      roles: ['admin'],
      body: blockAddBody,
      response: addResultJson,
      errors: [422],
      handler: async ({ actor, body, req }) => {
        if (body.permanent && body.ttlSeconds !== undefined) throw new ValidationError({ ttlSeconds: 'give either ttlSeconds or permanent: true, not both' });
        if (!body.permanent && body.ttlSeconds === undefined) throw new ValidationError({ ttlSeconds: 'is required unless permanent is true' });
        const outcome = await blocks.add(
          actor,
          { address: body.address, reason: body.reason, reasonText: body.reasonText ?? null, expiry: body.permanent ? { permanent: true } : { permanent: false, ttlSeconds: body.ttlSeconds! }, serverId: body.serverId ?? null },
          { ip: req.ip ?? null },
        );
        return { ...toBlockJson(outcome.block), outcome: outcome.created ? 'created' : 'extended', permanentBecause: outcome.permanentBecause };
      },
    }),
    defineEndpoint({
      method: 'post',
      path: '/blocks/:id/lift',
      operationId: 'liftBlock',
      summary: 'Lift an active block (removes it from the firewall)',
      tag: 'IP blocks',
      roles: ['admin'],
      params: blockIdParam,
      body: blockLiftBody,
      response: blockJson,
      errors: [404, 409, 422],
      handler: async ({ actor, params, body, req }) => toBlockJson((await blocks.lift(actor, params.id, body.reason, req.ip ?? null)).block),
    }),
  ];
}
