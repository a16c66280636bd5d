import type { z } from 'zod';
import { ValidationError, type FieldErrors } from '../lib/errors';

/** Validates input with a zod schema; failures become a 422 naming each field. */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown): z.infer<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const fields: FieldErrors = {};
  for (const issue of result.error.issues) {
    const key = issue.path.join('.') || 'input';
    fields[key] ??= issue.message.replace(/^Invalid input: /, '');
  }
  throw new ValidationError(fields);
}
