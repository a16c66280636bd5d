import { describe, expect, it } from 'vitest';
import { defaultTemplates } from './defaultTemplates';
import { noticeKinds } from './kinds';
import { checkTemplate, placeholderNames, renderTemplate, templateProblems, type PlaceholderValues } from './templateRenderer';

const values = Object.fromEntries(placeholderNames.map((p) => [p, `<${p}>`])) as PlaceholderValues;

describe('notice template renderer', () => {
  it('substitutes every placeholder, with or without inner spaces, in one pass', () => {
    expect(renderTemplate('Hi {{account}}, {{ domain }}: {{reason}}', values)).toBe('Hi <account>, <domain>: <reason>');
    // A value that looks like a placeholder is not expanded again.
    expect(renderTemplate('{{reason}}', { ...values, reason: 'see {{account}}' })).toBe('see {{account}}');
  });

  it('leaves unknown placeholders as they are when rendering (a stored template never breaks a decision)', () => {
    expect(renderTemplate('{{account}} {{acount}}', values)).toBe('<account> {{acount}}');
  });

  it('names each unknown placeholder and the field when a template is saved', () => {
    expect(templateProblems('Dear {{customer}}, {{account}} {{customer}}')).toEqual([expect.stringMatching(/^unknown placeholder \{\{customer\}\}: use one of \{\{account\}\}/)]);
    expect(templateProblems('{{account')).toEqual(['has "{{" or "}}" that is not part of a placeholder such as {{account}}']);
    let err: unknown;
    try {
      checkTemplate({ subject: 'About {{acct}}', body: 'Hello {{account}} on {{srv}}' });
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ status: 422, fields: { subject: expect.stringContaining('{{acct}}'), body: expect.stringContaining('{{srv}}') } });
    expect((err as Error).message).toContain('subject: unknown placeholder {{acct}}');
  });

  it('the default templates use only known placeholders and say what happened, what comes next and how to appeal', () => {
    for (const kind of noticeKinds) {
      const t = defaultTemplates[kind];
      expect(() => checkTemplate(t)).not.toThrow();
      // Lifting a suspension and a failing postmaster@ are not about complaints; every other notice lists them.
      const required = kind === 'unsuspended' || kind === 'postmaster_failing' ? ['{{reason}}', '{{next_step}}', '{{appeal}}'] : ['{{reason}}', '{{next_step}}', '{{appeal}}', '{{complaints}}'];
      for (const p of required) expect(t.body, `${kind} uses ${p}`).toContain(p);
      expect(t.subject).not.toMatch(/\n/);
    }
  });
});
