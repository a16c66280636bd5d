import type { Request } from 'express';
import type { z } from 'zod';
import type { Actor, Role } from '../tenancy/actor';

type AnyObject = z.ZodObject<z.ZodRawShape>;

/**
 * One JSON API endpoint: the zod schemas here validate requests AND generate the OpenAPI document,
 * so the two can never disagree.
 */
export interface Endpoint<Q extends AnyObject = AnyObject, P extends AnyObject = AnyObject, B extends AnyObject = AnyObject> {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  /** Express-style path below /api/v1, e.g. "/accounts/:id". */
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  tag: string;
  /** Roles allowed; omitted means every signed-in role (tenancy still scopes the data). */
  roles?: Role[];
  query?: Q;
  params?: P;
  /** JSON request body (POST/PUT/PATCH); validated like query and params, and documented as requestBody. */
  body?: B;
  /** A non-JSON request body (e.g. message/rfc822), handed to the handler as a Buffer in `req.body`; documented, not validated. */
  rawBody?: { contentType: string; description: string };
  response: z.ZodType;
  /** The success status when it is not 200 (201 for a POST that creates something). */
  status?: 201;
  /** HTTP statuses beyond 200 this endpoint may answer, for the document. */
  errors?: number[];
  handler(ctx: { actor: Actor; query: z.infer<Q>; params: z.infer<P>; body: z.infer<B>; req: Request }): Promise<unknown>;
}

export function defineEndpoint<Q extends AnyObject, P extends AnyObject, B extends AnyObject = AnyObject>(endpoint: Endpoint<Q, P, B>): Endpoint {
  return endpoint as unknown as Endpoint;
}
