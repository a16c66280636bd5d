import type { z } from 'zod';

/**
 * Stored settings over their defaults, field by field: a stored value that no longer validates (an
 * older version, a hand edit) keeps the default for that field instead of breaking the whole area.
 */
export function mergeStored<T extends object>(shape: { [K in keyof T]: z.ZodType<T[K], unknown> }, defaults: T, stored: Record<string, unknown> | null | undefined): T {
  const merged = { ...defaults };
  for (const [key, value] of Object.entries(stored ?? {})) {
    if (!(key in defaults)) continue;
    const parsed = shape[key as keyof T].safeParse(value);
    if (parsed.success) merged[key as keyof T] = parsed.data as T[keyof T];
  }
  return merged;
}
