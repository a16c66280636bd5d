import type { EnforcementService } from './enforcementService';
import type { PanelAction } from './panelActionRepository';
import { actionLabels } from './actionKinds';
import { accountActionOptions, ladderSummary, originWords } from './presentation';

/** How many of an account's actions its page lists; the queue filtered by account has the rest. */
export const cardActionCount = 10;

/** What views/enforcement/account-card.ejs shows besides the account itself. */
export interface AccountEnforcementCard {
  actions: PanelAction[];
  total: number;
  ladder: string[];
  options: ReturnType<typeof accountActionOptions>;
  /** Words for the actions table: the account page's locals do not carry them. */
  labels: typeof actionLabels;
  origins: typeof originWords;
}

/** Loaded by the admin account page (src/tenancy/pages.ts) and by the card's own page after a form error. */
export async function loadAccountCard(enforcement: EnforcementService, accountId: number): Promise<AccountEnforcementCard> {
  const [page, total, { settings }] = await Promise.all([enforcement.list({ accountId }, { limit: cardActionCount }), enforcement.total({ accountId }), enforcement.readSettings()]);
  return { actions: page.items, total, ladder: ladderSummary(settings), options: accountActionOptions(), labels: actionLabels, origins: originWords };
}
