/**
 * A settings form as the service's input: checkboxes become booleans (absent = off), and an emptied
 * number field stays missing, so it is reported instead of silently becoming 0.
 */
export function settingsInputFromForm(keys: readonly string[], checkboxes: ReadonlySet<string>, raw: Record<string, unknown>): Record<string, unknown> {
  const input: Record<string, unknown> = {};
  for (const key of keys) {
    const value = raw[key];
    if (checkboxes.has(key)) input[key] = value !== undefined && value !== '';
    else if (typeof value === 'string' && value.trim() !== '') input[key] = value.trim();
  }
  return input;
}
