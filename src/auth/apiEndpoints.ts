import { z } from 'zod';
import { defineEndpoint, type Endpoint } from '../api/endpoint';
import { roles } from '../tenancy/actor';

export const meJson = z
  .object({
    id: z.number().int(),
    login: z.string(),
    role: z.enum(roles),
    accountId: z.number().int().nullable(),
    account: z.string().nullable().describe('Panel username of the linked account; null for admins'),
  });

export function authEndpoints(): Endpoint[] {
  return [
    defineEndpoint({
      method: 'get',
      path: '/me',
      operationId: 'getMe',
      summary: 'The user this token belongs to, with its role and account',
      tag: 'Auth',
      response: meJson,
      handler: async ({ req }) => {
        const user = req.user!;
        return { id: user.id, login: user.login, role: user.role, accountId: user.accountId, account: user.accountUsername };
      },
    }),
  ];
}
