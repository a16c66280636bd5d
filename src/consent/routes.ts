import { Router, type Request, type Response } from 'express';
import { csvCell } from '../http/csv';
import { flash } from '../http/flash';
import { actorFrom } from '../http/roleGate';
import { renderPage, type Crumb } from '../http/render';
import { withQuery } from '../http/urls';
import { parseInput } from '../http/validate';
import { ConflictError, ValidationError, type FieldErrors } from '../lib/errors';
import type { TenancyService } from '../tenancy/tenancyService';
import type { CheckResult, ConsentService } from './consentService';
import type { ConsentStatsService } from './statsService';
import { sendEvidence } from './evidence';
import { checkForm, confirmForm, listForm, listIdParam, recordForm, recordQuerySchema, revokeForm, splitRecipients, textForm } from './schemas';
import { consentMethods, consentStatuses, revokeHows } from './types';
import { optInFacts } from './optin/customerRoutes';
import type { OptInService } from './optin/optInService';
import type { UnsubscribeService } from './unsubscribeService';

const home: Crumb = { label: 'Home', href: '/customer' };
const consentCrumb: Crumb = { label: 'Consent', href: '/customer/consent' };

/** Field errors of a failed form submission, or null when the error is not the user's to fix. */
function formErrors(err: unknown): { errors: FieldErrors; status: number } | null {
  if (err instanceof ValidationError) return { errors: err.fields, status: 422 };
  if (err instanceof ConflictError) return { errors: { [String(err.details?.field ?? 'form')]: err.message }, status: 409 };
  return null;
}

const body = (req: Request): Record<string, string> => (req.body ?? {}) as Record<string, string>;

/** Form errors as field errors: unlike parseInput this keeps going so the page can be shown again. */
function tryParse<T>(fn: () => T): { value?: T; failure?: { errors: FieldErrors; status: number } } {
  try {
    return { value: fn() };
  } catch (err) {
    const failure = formErrors(err);
    if (!failure) throw err;
    return { failure };
  }
}

async function tryParseAsync<T>(fn: () => Promise<T>): Promise<{ value?: T; failure?: { errors: FieldErrors; status: number } }> {
  try {
    return { value: await fn() };
  } catch (err) {
    const failure = formErrors(err);
    if (!failure) throw err;
    return { failure };
  }
}

export function customerConsentRoutes(deps: { consent: ConsentService; tenancy: TenancyService; unsubscribe?: UnsubscribeService; optIn?: OptInService }): Router {
  const router = Router();
  const { consent, tenancy } = deps;
  const ownDomains = async (req: Request) => (await tenancy.listDomains(actorFrom(req), { limit: 200 })).items;
  const origin = (req: Request) => `${req.protocol}://${req.get('host') ?? 'localhost'}`;

  // List-Unsubscribe / List-Unsubscribe-Post header values for any address, in one of the customer's own lists (another account's list: 404).
  router.get('/consent/lists/:id/unsubscribe-headers', async (req, res) => {
    const actor = actorFrom(req);
    const { id } = parseInput(listIdParam, req.params);
    const list = await consent.getList(actor, id);
    const email = typeof req.query.email === 'string' ? req.query.email : '';
    const parsed = email.trim() && deps.unsubscribe ? await tryParseAsync(() => deps.unsubscribe!.headersFor(actor, list.id, email, origin(req))) : {};
    await renderPage(req, res, 'consent/unsubscribe-headers', {
      title: `Unsubscribe headers for ${list.name}`,
      breadcrumbs: [home, consentCrumb, { label: list.name, href: `/customer/consent/lists/${list.id}` }, { label: 'Unsubscribe headers' }],
      list,
      email,
      headers: parsed.value ?? null,
      errors: parsed.failure?.errors ?? {},
      status: parsed.failure?.status ?? 200,
    });
  });

  router.get('/consent', async (req, res) => {
    const actor = actorFrom(req);
    const cursor = typeof req.query.cursor === 'string' && req.query.cursor ? req.query.cursor : undefined;
    const listing = await consent.listLists(actor, { cursor });
    await renderPage(req, res, 'consent/index', {
      title: 'Consent lists',
      breadcrumbs: [home, { label: 'Consent' }],
      primaryAction: { label: 'New list', href: '/customer/consent/lists/new' },
      listing,
      nextHref: listing.nextCursor ? withQuery(req, { cursor: listing.nextCursor }) : null,
      firstHref: cursor ? withQuery(req, { cursor: undefined }) : null,
    });
  });

  const showNewList = async (req: Request, res: Response, values: Record<string, unknown>, errors: FieldErrors, status = 200) =>
    renderPage(req, res, 'consent/list-new', {
      title: 'New consent list',
      breadcrumbs: [home, consentCrumb, { label: 'New list' }],
      domains: await ownDomains(req),
      values,
      errors,
      status,
    });

  router.get('/consent/lists/new', (req, res) => showNewList(req, res, { name: '', domainId: '', doubleOptIn: false, text: '' }, {}));

  router.post('/consent/lists', async (req, res) => {
    const raw = body(req);
    const values = { name: raw.name ?? '', domainId: raw.domainId ?? '', doubleOptIn: raw.doubleOptIn === 'yes', text: raw.text ?? '' };
    const parsed = tryParse(() => parseInput(listForm, raw));
    if (parsed.failure) return showNewList(req, res, values, parsed.failure.errors, parsed.failure.status);
    try {
      const id = await consent.createList(actorFrom(req), parsed.value!);
      flash(req, 'success', `List "${parsed.value!.name}" created with consent text version 1. Add the people who agreed to it.`);
      res.redirect(`/customer/consent/lists/${id}`);
    } catch (err) {
      const failure = formErrors(err);
      if (!failure) throw err;
      await showNewList(req, res, values, failure.errors, failure.status);
    }
  });

  router.get('/consent/lists/:id', async (req, res) => {
    const actor = actorFrom(req);
    const { id } = parseInput(listIdParam, req.params);
    const list = await consent.getList(actor, id);
    const query = parseInput(recordQuerySchema, req.query);
    const listing = await consent.listRecords(actor, list.id, query);
    await renderPage(req, res, 'consent/list', {
      title: list.name,
      breadcrumbs: [home, consentCrumb, { label: list.name }],
      primaryAction: { label: 'Add a record', href: `/customer/consent/lists/${list.id}/records/new` },
      list,
      listing,
      query,
      statuses: consentStatuses,
      basePath: `/customer/consent/lists/${list.id}`,
      optIn: deps.optIn ? optInFacts(deps.optIn, list, origin(req)) : null,
      nextHref: listing.nextCursor ? withQuery(req, { cursor: listing.nextCursor }) : null,
      firstHref: query.cursor ? withQuery(req, { cursor: undefined }) : null,
    });
  });

  const showText = async (req: Request, res: Response, id: number, text: string | null, errors: FieldErrors, status = 200) => {
    const actor = actorFrom(req);
    const list = await consent.getList(actor, id);
    const history = await consent.textHistory(actor, id);
    await renderPage(req, res, 'consent/text', {
      title: `Consent text of ${list.name}`,
      breadcrumbs: [home, consentCrumb, { label: list.name, href: `/customer/consent/lists/${list.id}` }, { label: 'Consent text' }],
      list,
      history,
      values: { text: text ?? list.text },
      errors,
      status,
    });
  };

  router.get('/consent/lists/:id/text', async (req, res) => showText(req, res, parseInput(listIdParam, req.params).id, null, {}));

  router.post('/consent/lists/:id/text', async (req, res) => {
    const { id } = parseInput(listIdParam, req.params);
    const raw = body(req);
    try {
      const { text } = parseInput(textForm, raw);
      const version = await consent.updateText(actorFrom(req), id, text);
      flash(req, 'success', `Consent text version ${version} saved. New records agree to version ${version}; existing records keep the version they agreed to.`);
      res.redirect(`/customer/consent/lists/${id}`);
    } catch (err) {
      const failure = formErrors(err);
      if (!failure) throw err;
      await showText(req, res, id, raw.text ?? '', failure.errors, failure.status);
    }
  });

  const showNewRecord = async (req: Request, res: Response, id: number, values: Record<string, unknown>, errors: FieldErrors, status = 200) => {
    const list = await consent.getList(actorFrom(req), id);
    await renderPage(req, res, 'consent/record-new', {
      title: `Add a record to ${list.name}`,
      breadcrumbs: [home, consentCrumb, { label: list.name, href: `/customer/consent/lists/${list.id}` }, { label: 'Add a record' }],
      list,
      methods: consentMethods,
      values,
      errors,
      status,
    });
  };

  router.get('/consent/lists/:id/records/new', async (req, res) =>
    showNewRecord(req, res, parseInput(listIdParam, req.params).id, { email: '', status: 'pending', method: 'manual', source: '', consentedAt: '', ip: '' }, {}),
  );

  router.post('/consent/lists/:id/records', async (req, res) => {
    const { id } = parseInput(listIdParam, req.params);
    const raw = body(req);
    const values = { email: raw.email ?? '', status: raw.status ?? 'pending', method: raw.method ?? 'manual', source: raw.source ?? '', consentedAt: raw.consentedAt ?? '', ip: raw.ip ?? '' };
    try {
      const form = parseInput(recordForm, { ...raw, userAgent: undefined });
      const recordId = await consent.addRecord(actorFrom(req), id, form);
      flash(req, 'success', `${form.email} added as ${form.status}.`);
      res.redirect(`/customer/consent/records/${recordId}`);
    } catch (err) {
      const failure = formErrors(err);
      if (!failure) throw err;
      await showNewRecord(req, res, id, values, failure.errors, failure.status);
    }
  });

  const showRecord = async (req: Request, res: Response, id: number, values: Record<string, unknown>, errors: FieldErrors, status = 200) => {
    const actor = actorFrom(req);
    const record = await consent.getRecord(actor, id);
    const events = await consent.timeline(actor, id);
    await renderPage(req, res, 'consent/record', {
      title: record.email,
      breadcrumbs: [home, consentCrumb, { label: record.listName, href: `/customer/consent/lists/${record.listId}` }, { label: record.email }],
      record,
      events,
      unsubscribeHeaders: deps.unsubscribe ? deps.unsubscribe.headers(record.listId, record.email, origin(req)) : null,
      confirmations: deps.optIn ? await deps.optIn.confirmationsOf(actor, record.id) : null,
      listDoubleOptIn: deps.optIn ? (await consent.getList(actor, record.listId)).doubleOptIn : false,
      methods: consentMethods.filter((m) => m !== 'manual'),
      hows: revokeHows,
      values,
      errors,
      status,
    });
  };
  const emptyConfirm = { method: 'web_form', source: '', consentedAt: '', ip: '' };

  router.get('/consent/records/:id', async (req, res) => showRecord(req, res, parseInput(listIdParam, req.params).id, emptyConfirm, {}));

  router.post('/consent/records/:id/confirm', async (req, res) => {
    const { id } = parseInput(listIdParam, req.params);
    const raw = body(req);
    try {
      await consent.confirmRecord(actorFrom(req), id, parseInput(confirmForm, raw));
      flash(req, 'success', 'Confirmed consent recorded.');
      res.redirect(`/customer/consent/records/${id}`);
    } catch (err) {
      const failure = formErrors(err);
      if (!failure) throw err;
      await showRecord(req, res, id, { method: raw.method ?? '', source: raw.source ?? '', consentedAt: raw.consentedAt ?? '', ip: raw.ip ?? '' }, failure.errors, failure.status);
    }
  });

  router.post('/consent/records/:id/revoke', async (req, res) => {
    const { id } = parseInput(listIdParam, req.params);
    try {
      const { how } = parseInput(revokeForm, body(req));
      await consent.revokeRecord(actorFrom(req), id, how);
      flash(req, 'success', 'Consent revoked. The address stays revoked until a new confirmed consent is recorded.');
      res.redirect(`/customer/consent/records/${id}`);
    } catch (err) {
      const failure = formErrors(err);
      if (!failure) throw err;
      await showRecord(req, res, id, emptyConfirm, failure.errors, failure.status);
    }
  });

  // Evidence export (src/consent/evidence.ts): JSON download, or the printable page that embeds the same JSON.
  for (const kind of ['record', 'list'] as const) {
    for (const as of ['json', 'html'] as const) {
      router.get(`/consent/${kind}s/:id/evidence.${as}`, async (req, res) => {
        const { id } = parseInput(listIdParam, req.params);
        await sendEvidence(res, await consent.evidence(actorFrom(req), { kind, id }), as);
      });
    }
  }

  const showCheck = async (req: Request, res: Response, values: Record<string, unknown>, result: CheckResult | null, errors: FieldErrors, status = 200) =>
    renderPage(req, res, 'consent/check', {
      title: 'Pre-send check',
      breadcrumbs: [home, consentCrumb, { label: 'Pre-send check' }],
      domains: await ownDomains(req),
      values,
      result,
      errors,
      status,
    });

  router.get('/consent/check', (req, res) => showCheck(req, res, { sender: typeof req.query.sender === 'string' ? req.query.sender : '', recipients: '' }, null, {}));

  const runCheck = async (req: Request) => {
    const form = parseInput(checkForm, body(req));
    const recipients = splitRecipients(form.recipients);
    if (!recipients.length) throw new ValidationError({ recipients: 'is empty: paste addresses, one per line or separated by commas' });
    if (recipients.length > 100_000) throw new ValidationError({ recipients: 'has more than 100,000 addresses: split the list' });
    return consent.check(actorFrom(req), form.sender, recipients);
  };

  router.post('/consent/check', async (req, res) => {
    const raw = body(req);
    const values = { sender: raw.sender ?? '', recipients: raw.recipients ?? '' };
    try {
      await showCheck(req, res, values, await runCheck(req), {});
    } catch (err) {
      const failure = formErrors(err);
      if (!failure) throw err;
      await showCheck(req, res, values, null, failure.errors, failure.status);
    }
  });

  router.post('/consent/check.csv', async (req, res) => {
    const result = await runCheck(req);
    const rows = ['email,status'];
    for (const status of ['confirmed', 'pending', 'revoked', 'unknown', 'invalid'] as const) for (const email of result[status]) rows.push(`${csvCell(email)},${status}`);
    res
      .status(200)
      .type('text/csv; charset=utf-8')
      .attachment(`consent-check-${result.sender}.csv`)
      .send(`${rows.join('\r\n')}\r\n`);
  });

  return router;
}

export function adminConsentRoutes(consent: ConsentService, stats: ConsentStatsService): Router {
  const router = Router();
  router.get('/consent', async (req, res) => {
    // Accounts with a list or an event: every account with a chain is among them.
    const [chains, accounts] = await Promise.all([consent.verifyChains(), stats.accountsWithConsent(actorFrom(req))]);
    const byAccount = new Map(chains.map((c) => [c.accountId, c]));
    const rows = accounts.map((s) => ({ ...s, chain: byAccount.get(s.accountId) ?? null }));
    await renderPage(req, res, 'consent/admin', {
      title: 'Consent records',
      breadcrumbs: [{ label: 'Home', href: '/admin' }, { label: 'Consent' }],
      rows,
      brokenCount: chains.filter((c) => c.broken).length,
    });
  });
  return router;
}
