export const roles = ['admin', 'reseller', 'customer'] as const;
export type Role = (typeof roles)[number];

/** Who is acting: every repository query is scoped by this. */
export interface Actor {
  userId: number | null;
  login: string;
  role: Role;
  /** The reseller's or customer's own account; null for admins. */
  accountId: number | null;
}

/** The CLI and jobs act as the system, with admin reach. */
export const systemActor: Actor = { userId: null, login: 'system', role: 'admin', accountId: null };

export function isRole(value: string): value is Role {
  return (roles as readonly string[]).includes(value);
}
