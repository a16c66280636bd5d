import { ValidationError } from '../lib/errors';

/** Every placeholder a notice template may use, with the help text the template editor shows. */
export const placeholders = {
  account: 'The panel username of the account the notice is about.',
  domain: 'The domain(s) the complaints were about, else the account’s main domain.',
  reason: 'Why the decision was taken, as recorded with it.',
  complaints: 'The complaints behind the decision, one per line: date, recipient (or "redacted") and complaint number.',
  strikes: 'The number of active strikes on the account.',
  next_step: 'What happens next (the ladder’s next step, or the kind’s standard text).',
  appeal: 'How to appeal: reply to the abuse desk, or the appeal address when one is set.',
  reseller: 'The reseller that owns the account, or the provider when it owns the account directly.',
  provider: 'The provider’s name (set on this page).',
  abuse_address: 'The abuse desk’s address (set on this page).',
  server: 'The server the account is on.',
  date: 'The date of the notice (UTC).',
} as const;

export type Placeholder = keyof typeof placeholders;
export type PlaceholderValues = Record<Placeholder, string>;

export const placeholderNames = Object.keys(placeholders) as Placeholder[];

// `{{ name }}`: inner spaces are tolerated because people type them.
const token = /\{\{\s*([^{}\s]*)\s*\}\}/g;

function isPlaceholder(name: string): name is Placeholder {
  return Object.prototype.hasOwnProperty.call(placeholders, name);
}

/**
 * Substitutes every placeholder in one pass, so a value that itself contains "{{...}}" (a reason
 * typed by an admin) is never expanded again. Unknown placeholders stay as they are: a stored
 * template must never make the deciding transaction fail (saving checks them, see checkTemplate).
 */
export function renderTemplate(template: string, values: PlaceholderValues): string {
  return template.replace(token, (whole, name: string) => (isPlaceholder(name) ? values[name] : whole));
}

/** The problems of one template text: unknown placeholders (named) and "{{" that opens nothing. */
export function templateProblems(text: string): string[] {
  const problems: string[] = [];
  const unknown = new Set<string>();
  for (const match of text.matchAll(token)) if (!isPlaceholder(match[1]!)) unknown.add(match[1]!);
  for (const name of unknown) problems.push(`unknown placeholder {{${name}}}: use one of ${placeholderNames.map((p) => `{{${p}}}`).join(', ')}`);
  const stray = text.replace(token, '');
  if (stray.includes('{{') || stray.includes('}}')) problems.push('has "{{" or "}}" that is not part of a placeholder such as {{account}}');
  return problems;
}

/** Throws a 422 naming the field and each unknown placeholder; used when an admin saves a template. */
export function checkTemplate(fields: { subject: string; body: string }): void {
  const errors: Record<string, string> = {};
  for (const field of ['subject', 'body'] as const) {
    const problems = templateProblems(fields[field]);
    if (problems.length) errors[field] = problems.join('; ');
  }
  if (Object.keys(errors).length) throw new ValidationError(errors);
}
