import type { Role } from '../tenancy/actor';

export interface NavItem {
  label: string;
  href: string;
}

export const contextTitles: Record<Role, string> = {
  admin: 'Admin · WHM',
  reseller: 'Reseller',
  customer: 'Customer · cPanel',
};

export const homePaths: Record<Role, string> = {
  admin: '/admin',
  reseller: '/reseller',
  customer: '/customer',
};

/** The left navigation of each panel context: only areas that exist are listed. */
export const navigation: Record<Role, NavItem[]> = {
  admin: [
    { label: 'Home', href: '/admin' },
    { label: 'Accounts', href: '/admin/accounts' },
    { label: 'Resellers', href: '/admin/resellers' },
    { label: 'Domains', href: '/admin/domains' },
    { label: 'Servers', href: '/admin/servers' },
    { label: 'Policy', href: '/admin/policy' },
    { label: 'Complaints', href: '/admin/complaints' },
    { label: 'Postmaster', href: '/admin/postmaster' },
    { label: 'Charges', href: '/admin/charges' },
    { label: 'Enforcement', href: '/admin/enforcement' },
    { label: 'IP blocks', href: '/admin/blocks' },
    { label: 'Consent', href: '/admin/consent' },
    { label: 'Notices', href: '/admin/notices' },
    { label: 'Mail', href: '/admin/mail' },
    { label: 'Users', href: '/admin/users' },
    { label: 'Audit log', href: '/admin/audit' },
    { label: 'API tokens', href: '/admin/settings/tokens' },
  ],
  reseller: [
    { label: 'Home', href: '/reseller' },
    { label: 'Customers', href: '/reseller/customers' },
    { label: 'Domains', href: '/reseller/domains' },
    { label: 'Complaints', href: '/reseller/complaints' },
    { label: 'Postmaster', href: '/reseller/postmaster' },
    { label: 'Enforcement', href: '/reseller/enforcement' },
    { label: 'Consent', href: '/reseller/consent' },
    { label: 'Policy', href: '/reseller/policy' },
    { label: 'API tokens', href: '/reseller/settings/tokens' },
  ],
  customer: [
    { label: 'Home', href: '/customer' },
    { label: 'Domains', href: '/customer/domains' },
    { label: 'Complaints', href: '/customer/complaints' },
    { label: 'Postmaster', href: '/customer/postmaster' },
    { label: 'Account standing', href: '/customer/standing' },
    { label: 'Consent', href: '/customer/consent' },
    { label: 'Policy', href: '/customer/policy' },
    { label: 'API tokens', href: '/customer/settings/tokens' },
  ],
};
