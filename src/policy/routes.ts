import { Router } from 'express';
import { z } from 'zod';
import { flash } from '../http/flash';
import { clientIp } from '../http/requestContext';
import { actorFrom } from '../http/roleGate';
import { renderPage } from '../http/render';
import { withQuery } from '../http/urls';
import { parseInput } from '../http/validate';
import { ValidationError } from '../lib/errors';
import { acceptanceStates } from './policyRepository';
import type { PolicyService } from './policyService';

const versionParam = z.object({ version: z.coerce.number().int().positive({ message: 'expects a version number' }) });
const publishForm = z.object({ title: z.string().default(''), body: z.string().default(''), changeSummary: z.string().default('') });
const acceptForm = z.object({ version: z.coerce.number().int().positive(), confirm: z.string().optional() });
const acceptanceQuery = z.object({
  q: z.preprocess((v) => (v === '' ? undefined : v), z.string().trim().max(100).optional()),
  state: z.preprocess((v) => (v === '' ? undefined : v), z.enum(acceptanceStates, { message: 'expects current, outdated or never' }).optional()),
  cursor: z.preprocess((v) => (v === '' ? undefined : v), z.string().max(500).optional()),
});

export function adminPolicyRoutes(policy: PolicyService): Router {
  const router = Router();
  const crumbs = [{ label: 'Home', href: '/admin' }, { label: 'Policy', href: '/admin/policy' }];

  router.get('/policy', async (req, res) => {
    const [versions, acceptance] = await Promise.all([policy.list(), policy.acceptances(actorFrom(req), parseInput(acceptanceQuery, req.query))]);
    await renderPage(req, res, 'policy/admin-index', {
      title: 'Policy versions',
      breadcrumbs: [crumbs[0]!, { label: 'Policy' }],
      primaryAction: { label: 'Publish a new version', href: '/admin/policy/new' },
      versions,
      acceptance,
      query: parseInput(acceptanceQuery, req.query),
      nextHref: acceptance.nextCursor ? withQuery(req, { cursor: acceptance.nextCursor }) : null,
    });
  });

  router.get('/policy/new', async (req, res) => {
    const current = await policy.current();
    await renderPage(req, res, 'policy/admin-new', {
      title: 'Publish a new policy version',
      breadcrumbs: [...crumbs, { label: 'New version' }],
      values: { title: current?.title ?? 'Anti-spam policy', body: current?.body ?? '', changeSummary: '' },
      errors: {},
      nextVersion: (current?.version ?? 0) + 1,
    });
  });

  router.post('/policy', async (req, res) => {
    const values = publishForm.parse(req.body ?? {});
    try {
      const version = await policy.publish(actorFrom(req), values, clientIp(req));
      flash(req, 'success', `Version ${version} is published. Customers are asked to accept it when they next sign in.`);
      res.redirect(`/admin/policy/${version}`);
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      const current = await policy.current();
      await renderPage(req, res, 'policy/admin-new', {
        title: 'Publish a new policy version',
        breadcrumbs: [...crumbs, { label: 'New version' }],
        values,
        errors: err.fields,
        nextVersion: (current?.version ?? 0) + 1,
        status: 422,
      });
    }
  });

  router.get('/policy/:version', async (req, res) => {
    const { version } = parseInput(versionParam, req.params);
    const found = await policy.get(version);
    await renderPage(req, res, 'policy/show', { title: `${found.title} — version ${found.version}`, breadcrumbs: [...crumbs, { label: `Version ${found.version}` }], policyVersion: found });
  });
  return router;
}

export function resellerPolicyRoutes(policy: PolicyService): Router {
  const router = Router();
  router.get('/policy', async (req, res) => {
    const query = parseInput(acceptanceQuery, req.query);
    const [current, acceptance] = await Promise.all([policy.current(), policy.acceptances(actorFrom(req), query)]);
    await renderPage(req, res, 'policy/reseller-index', {
      title: 'Policy acceptance',
      breadcrumbs: [{ label: 'Home', href: '/reseller' }, { label: 'Policy' }],
      currentPolicy: current,
      acceptance,
      query,
      nextHref: acceptance.nextCursor ? withQuery(req, { cursor: acceptance.nextCursor }) : null,
    });
  });
  router.get('/policy/:version', async (req, res) => {
    const { version } = parseInput(versionParam, req.params);
    const found = await policy.get(version);
    await renderPage(req, res, 'policy/show', { title: `${found.title} — version ${found.version}`, breadcrumbs: [{ label: 'Home', href: '/reseller' }, { label: 'Policy', href: '/reseller/policy' }, { label: `Version ${found.version}` }], policyVersion: found });
  });
  return router;
}

export function customerPolicyRoutes(policy: PolicyService): Router {
  const router = Router();
  const crumbs = [{ label: 'Home', href: '/customer' }, { label: 'Policy' }];

  const show = async (req: Parameters<Parameters<Router['get']>[1]>[0], res: Parameters<Parameters<Router['get']>[1]>[1], error?: string) => {
    const current = await policy.current();
    const acceptance = current ? await policy.acceptanceOf(actorFrom(req), current) : null;
    await renderPage(req, res, 'policy/customer', { title: 'Anti-spam policy', breadcrumbs: crumbs, currentPolicy: current, acceptance, error, status: error ? 422 : 200 });
  };

  router.get('/policy', (req, res) => show(req, res));

  router.post('/policy/accept', async (req, res) => {
    const form = acceptForm.safeParse(req.body ?? {});
    if (!form.success) return show(req, res, 'Something in the form was missing. Reload the page and try again.');
    if (form.data.confirm !== 'yes') return show(req, res, 'Tick the box to confirm you have read the policy before accepting it.');
    const outcome = await policy.accept(actorFrom(req), form.data.version, { ip: clientIp(req), userAgent: req.get('user-agent') ?? null });
    flash(req, 'success', outcome === 'accepted' ? `Thank you. Your acceptance of version ${form.data.version} is recorded.` : `You had already accepted version ${form.data.version}.`);
    res.redirect('/customer/policy');
  });
  return router;
}
