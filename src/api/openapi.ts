import { z } from 'zod';
import type { Endpoint } from './endpoint';
import { errorResponse } from './schemas';

const errorDescriptions: Record<number, string> = {
  401: 'Missing, unknown or revoked API token',
  403: 'The token\'s role may not call this endpoint',
  404: 'Not found, or outside the token\'s tenancy',
  409: 'Conflicts with the current state (details.field names the field)',
  422: 'A parameter failed validation (details.fields names each one)',
};

function jsonSchema(schema: z.ZodType): Record<string, unknown> {
  return z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any', target: 'openapi-3.0' }) as Record<string, unknown>;
}

function parametersOf(schema: z.ZodObject<z.ZodRawShape> | undefined, where: 'query' | 'path') {
  if (!schema) return [];
  const json = jsonSchema(schema) as { properties?: Record<string, Record<string, unknown>>; required?: string[] };
  return Object.entries(json.properties ?? {}).map(([name, prop]) => {
    const { description, ...rest } = prop;
    return { name, in: where, required: where === 'path' || (json.required ?? []).includes(name), ...(description ? { description } : {}), schema: rest };
  });
}

/** The OpenAPI 3 document, generated from the same zod schemas the router validates with. */
export function buildOpenApi(endpoints: Endpoint[], baseUrl?: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const e of endpoints) {
    const path = e.path.replace(/:([A-Za-z_]+)/g, '{$1}');
    const success = e.status ?? 200;
    const responses: Record<string, unknown> = { [success]: { description: success === 201 ? 'Created' : 'OK', content: { 'application/json': { schema: jsonSchema(e.response) } } } };
    for (const status of [401, 403, 422, ...(e.errors ?? [])]) {
      responses[status] = { description: errorDescriptions[status] ?? 'Error', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } };
    }
    (paths[path] ??= {})[e.method] = {
      operationId: e.operationId,
      summary: e.summary,
      ...(e.description ? { description: e.description } : {}),
      tags: [e.tag],
      ...(e.roles ? { 'x-roles': e.roles } : {}),
      parameters: [...parametersOf(e.params, 'path'), ...parametersOf(e.query, 'query')],
      ...(e.body ? { requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(e.body) } } } } : {}),
      ...(e.rawBody ? { requestBody: { required: true, description: e.rawBody.description, content: { [e.rawBody.contentType]: { schema: { type: 'string', format: 'binary' } } } } } : {}),
      responses,
    };
  }
  return {
    openapi: '3.0.3',
    info: {
      title: 'Anti-spam policy plugin API',
      version: '1',
      description: 'Every request needs `Authorization: Bearer <token>`. A token carries its user\'s role and tenancy: resellers see their own customers, customers their own account. Errors are JSON `{ error: { code, message, details?, requestId } }`.',
    },
    servers: [{ url: `${baseUrl ?? ''}/api/v1` }],
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      schemas: { Error: jsonSchema(errorResponse) },
    },
    security: [{ bearer: [] }],
    paths,
  };
}
