import type { NoticeKind } from './kinds';

export interface NoticeTemplate {
  subject: string;
  body: string;
}

/**
 * The wording each notice starts with. Admins may edit it (notice_templates); "reset to default"
 * deletes the edit and these texts apply again. Written for the provider's customers in the terms
 * of the anti-spam policy: what happened, the complaints behind it, what happens next, how to appeal.
 */
export const defaultTemplates: Record<NoticeKind, NoticeTemplate> = {
  warning: {
    subject: 'Warning: spam from {{domain}} ({{account}}) — suspended with a warning',
    body: `Hello {{account}},

The anti-spam policy of {{provider}} has zero tolerance for unsolicited bulk and commercial email (spam). We received spam complaints about mail sent from your account {{account}} ({{domain}}) and found them valid:

{{complaints}}

Reason: {{reason}}

As our anti-spam policy states, a domain involved in spamming is suspended with a warning. This is that warning. Your account now has {{strikes}} active strike(s).

What happens next:
{{next_step}}

Under the policy you may mail only recipients who affirmatively and verifiably asked to receive mail from you, and you must keep a record of that permission for every recipient. Without such a record we consider that permission was not obtained. Each valid complaint may be charged to you as the policy describes.

How to appeal:
{{appeal}}

The abuse desk of {{provider}}
{{date}}
`,
  },
  termination_pending: {
    subject: 'Termination proposed for {{account}} ({{domain}}) after repeated spam',
    body: `Hello {{account}},

Your account {{account}} ({{domain}}) was warned and suspended because of spam. We have since received further spam complaints that we found valid:

{{complaints}}

Reason: {{reason}}

Our anti-spam policy states that a domain that spams again after a warning is terminated, and that the domain owner or reseller can be charged for every valid complaint. We have therefore proposed the termination of your account. Your account has {{strikes}} active strike(s).

What happens next:
{{next_step}}

Termination removes the account, its websites, mailboxes and data, and cannot be undone. If you believe this decision is wrong, appeal now, before the review is finished.

How to appeal:
{{appeal}}

The abuse desk of {{provider}}
{{date}}
`,
  },
  terminated: {
    subject: 'Your account {{account}} ({{domain}}) has been terminated',
    body: `Hello {{account}},

Your account {{account}} ({{domain}}) has been terminated under our anti-spam policy after repeated spam complaints found valid:

{{complaints}}

Reason: {{reason}}

What happens next:
{{next_step}}

How to appeal:
{{appeal}}

The abuse desk of {{provider}}
{{date}}
`,
  },
  unsuspended: {
    subject: 'Suspension lifted: {{account}} ({{domain}}) is active again',
    body: `Hello {{account}},

The suspension of your account {{account}} ({{domain}}) has been lifted.

Reason: {{reason}}

The strikes on your account remain on record ({{strikes}} active). Under our anti-spam policy a domain that spams again after a warning is terminated, and every valid complaint may be charged.

What happens next:
{{next_step}}

Please mail only recipients who affirmatively and verifiably asked to receive mail from you, and keep a record of each permission (the consent records in your control panel do this for you).

Questions:
{{appeal}}

The abuse desk of {{provider}}
{{date}}
`,
  },
  reseller_warning: {
    subject: 'Spam complaints about your customers: action needed ({{account}})',
    body: `Hello {{account}},

We received spam complaints, found valid, about mail sent by customers of your reseller account {{account}}:

{{complaints}}

Reason: {{reason}}

Our anti-spam policy applies to your customers and to their downstream customers. As a reseller you must educate your customers about spam, and promptly investigate and satisfactorily deal with every spam complaint forwarded to you. Customers who spam are suspended with a warning and terminated if it happens again, and the domain owner or reseller can be charged for every valid complaint.

What happens next:
{{next_step}}

The complaints are in the Complaints area of your reseller panel, with the standing of each customer under Enforcement.

How to appeal:
{{appeal}}

The abuse desk of {{provider}}
{{date}}
`,
  },
  server_suspension: {
    subject: 'Server suspended: spam continued from {{account}} on {{server}}',
    body: `Hello {{account}},

Spam continued to be sent from your dedicated server {{server}} ({{domain}}) after earlier complaints:

{{complaints}}

Reason: {{reason}}

Our anti-spam policy allows us to suspend a server on which spamming continues, without further notice and without refund. We have suspended {{server}}.

What happens next:
{{next_step}}

If you run a mail server on a dedicated server, you must keep a postmaster@ mailbox for your domains and read the mail sent to it.

How to appeal:
{{appeal}}

The abuse desk of {{provider}}
{{date}}
`,
  },
  postmaster_failing: {
    subject: 'Action needed: postmaster@ does not work for a domain of {{account}}',
    body: `Hello {{account}},

Our anti-spam policy requires every customer who receives mail for a domain to keep a postmaster@ address for it and to read the mail sent to it (RFC 5321). Our routine check found a problem:

{{reason}}

What happens next:
{{next_step}}

You can fix it in one click in your control panel (Postmaster): it creates a postmaster@ forwarder to your contact address, or a mailbox, and checks the domain again at once.

If you think the check is wrong:
{{appeal}}

The abuse desk of {{provider}}
{{date}}
`,
  },
};

/** {{next_step}} when the decision does not say what comes next. */
export const defaultNextSteps: Record<NoticeKind, string> = {
  warning:
    'The suspension stays until you have found and removed the cause (a compromised mailbox or script, or a list of recipients who never asked for your mail) and told us what you changed. If spam is sent from your account again, the account will be terminated.',
  termination_pending:
    'An administrator reviews the proposal. Unless your appeal changes the decision, the account will be terminated after that review.',
  terminated: 'The account and its data have been removed from the server. Charges for valid complaints remain due.',
  unsuspended: 'Nothing, as long as no further valid complaint arrives. Another one leads to termination of the account.',
  reseller_warning:
    'Please contact the customers concerned, make sure they keep consent records for every recipient, and resolve the complaint cases in your panel. If their complaints continue, their accounts will be suspended and terminated, and charges may apply to you.',
  server_suspension: 'The server stays suspended until you have stopped the spam and told us how. No refund is made for the time it is suspended.',
  postmaster_failing: 'Fix postmaster@ within the grace period. If it still does not work then, a strike is recorded against the account under the anti-spam policy, which can lead to suspension.',
};
