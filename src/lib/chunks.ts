/** `items` cut into consecutive slices of at most `size` (bounded statements: bind-variable and packet limits). */
export function chunksOf<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
