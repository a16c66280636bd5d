import { z } from 'zod';
import { defineEndpoint, type Endpoint } from '../api/endpoint';
import { pageOf, toPageJson } from '../api/schemas';
import { AppError } from '../lib/errors';
import type { ComplaintService } from './complaintService';
import type { ComplaintIntakeService } from './intakeService';
import { complaintIdParam, complaintListQuery } from './schemas';
import { attributionLevels, complaintStatuses, deskStatuses, type Complaint } from './types';

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export const complaintJson = z.object({
  id: z.number().int(),
  status: z.enum(complaintStatuses),
  decisionReason: z.string().nullable(),
  feedbackType: z.string().nullable(),
  spamtrap: z.boolean(),
  recipient: z.string().nullable().describe('null when the reporter hid it (see recipientRedaction)'),
  recipientRedaction: z.enum(['none', 'hashed', 'redacted']),
  account: z.string().nullable(),
  domain: z.string().nullable(),
  reseller: z.string().nullable(),
  attribution: z.enum(attributionLevels),
  duplicateOf: z.number().int().nullable(),
  deskStatus: z.enum(deskStatuses),
  dueAt: z.string().nullable(),
  evidenceDueAt: z.string().nullable(),
  arrivalAt: z.string().nullable(),
  receivedAt: z.string(),
  subject: z.string().nullable(),
});

export function toComplaintJson(c: Complaint): z.infer<typeof complaintJson> {
  return {
    id: c.id,
    status: c.status,
    decisionReason: c.decisionReason,
    feedbackType: c.feedbackType,
    spamtrap: c.spamtrap,
    recipient: c.recipientRedaction === 'none' ? c.recipient : null,
    recipientRedaction: c.recipientRedaction,
    account: c.accountUsername,
    domain: c.domainName,
    reseller: c.resellerUsername,
    attribution: c.attribution,
    duplicateOf: c.duplicateOf,
    deskStatus: c.deskStatus,
    dueAt: iso(c.dueAt),
    evidenceDueAt: iso(c.evidenceDueAt),
    arrivalAt: iso(c.arrivalAt),
    receivedAt: c.receivedAt.toISOString(),
    subject: c.subject,
  };
}

export const ingestResultJson = z.object({
  id: z.number().int().describe('The complaint (the first one when the report names several recipients)'),
  status: z.enum(complaintStatuses),
  feedbackType: z.string().nullable(),
  account: z.string().nullable(),
  domain: z.string().nullable(),
  reseller: z.string().nullable(),
  duplicateOf: z.number().int().nullable(),
  stored: z.boolean().describe('false when these exact bytes were already stored: the earlier result is returned'),
  complaints: z
    .array(z.object({ id: z.number().int(), recipient: z.string().nullable(), status: z.enum(complaintStatuses), duplicateOf: z.number().int().nullable(), reason: z.string().nullable() }))
    .describe('One entry per reported recipient'),
});

export function ingestJson(result: { stored: boolean; complaints: Complaint[] }): z.infer<typeof ingestResultJson> {
  const first = result.complaints[0]!;
  return {
    id: first.id,
    status: first.status,
    feedbackType: first.feedbackType,
    account: first.accountUsername,
    domain: first.domainName,
    reseller: first.resellerUsername,
    duplicateOf: first.duplicateOf,
    stored: result.stored,
    complaints: result.complaints.map((c) => ({ id: c.id, recipient: c.recipient, status: c.status, duplicateOf: c.duplicateOf, reason: c.decisionReason })),
  };
}

export function complaintEndpoints(intake: ComplaintIntakeService, complaints: ComplaintService): Endpoint[] {
  return [
    defineEndpoint({
      method: 'get',
      path: '/complaints',
      operationId: 'listComplaints',
      summary: 'Complaints in the token\'s tenancy (resellers: their customers; customers: their own), newest first, with filters and keyset pagination',
      tag: 'Complaints',
      query: complaintListQuery,
      response: pageOf(complaintJson),
      handler: async ({ actor, query }) =>
        toPageJson(
          await complaints.list(actor, { status: query.status, deskStatus: query.desk, q: query.q, from: query.from, to: query.to, overdue: query.overdue, customer: query.customer, domain: query.domain }, { limit: 50, cursor: query.cursor }, query.sort),
          toComplaintJson,
        ),
    }),
    defineEndpoint({
      method: 'get',
      path: '/complaints/:id',
      operationId: 'getComplaint',
      summary: 'One complaint (404 outside the token\'s tenancy)',
      tag: 'Complaints',
      params: complaintIdParam,
      response: complaintJson,
      errors: [404],
      handler: async ({ actor, params }) => toComplaintJson((await complaints.get(actor, params.id)).complaint),
    }),
    defineEndpoint({
      method: 'post',
      path: '/complaints',
      operationId: 'ingestComplaint',
      summary: 'Submit one complaint message (an ARF report, a JMRP mail, or forwarded abuse mail) exactly as received',
      description:
        'The body is the raw message (`Content-Type: message/rfc822`). It is stored byte for byte before parsing; sending the same bytes again returns the same complaint. A message that cannot be parsed is stored as `unparsed` for admin triage. 413 when larger than COMPLAINT_MAX_MB.',
      tag: 'Complaints',
      roles: ['admin'],
      rawBody: { contentType: 'message/rfc822', description: 'The complete message, headers and body' },
      response: ingestResultJson,
      errors: [413, 415],
      handler: async ({ actor, req }) => {
        if (!Buffer.isBuffer(req.body)) throw new AppError(415, 'unsupported_media_type', 'Send the message with Content-Type: message/rfc822 (the raw bytes of the mail).');
        return ingestJson(await intake.ingest(req.body, 'api', actor.login));
      },
    }),
  ];
}
