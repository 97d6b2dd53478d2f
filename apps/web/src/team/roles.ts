/**
 * What each role may do. Every route names one permission (require-permission.ts checks it, pages
 * and API alike); the admin's templates ask the same question to hide what a role cannot use.
 */
export const permissions = [
  'campaigns:read', // campaigns, their tasks and reports
  'campaigns:write', // drafts: write, edit, preview, test sends
  'campaigns:send', // start, schedule, pause, resume, cancel, retry; POST /send
  'subscribers:read',
  'subscribers:write', // add, edit, import, list memberships, attributes, lift a suppression
  'subscribers:export', // the whole audience as CSV, or one person's data
  'subscribers:erase',
  'audiences:read', // lists and segments
  'audiences:write',
  'webhooks:manage', // outbound webhook endpoints (their secrets sign what Herald reports)
  'queues:manage', // the queue dashboard, which can retry and remove jobs
  'audit:read',
  'users:manage', // invite, change the role of, disable and remove team members
  'tokens:own', // one's own API tokens
] as const;
export type Permission = (typeof permissions)[number];

/** Lowest first: a role may hand out (to an API token) any role at or below its own. */
export const roles = ['viewer', 'editor', 'admin', 'owner'] as const;
export type Role = (typeof roles)[number];

const viewer: Permission[] = ['campaigns:read', 'subscribers:read', 'audiences:read', 'tokens:own'];
const editor: Permission[] = [...viewer, 'campaigns:write'];
const owner: Permission[] = [...permissions];
const admin: Permission[] = owner.filter((permission) => permission !== 'users:manage');

const granted: Record<Role, ReadonlySet<Permission>> = {
  viewer: new Set(viewer),
  editor: new Set(editor),
  admin: new Set(admin),
  owner: new Set(owner),
};

export function roleCan(role: Role, permission: Permission): boolean {
  return granted[role].has(permission);
}

export function roleAtMost(role: Role, ceiling: Role): boolean {
  return roles.indexOf(role) <= roles.indexOf(ceiling);
}

/** The lower of two roles: what a token acts as when its user's role has changed since. */
export function lowerRole(a: Role, b: Role): Role {
  return roleAtMost(a, b) ? a : b;
}

export const roleDescriptions: Record<Role, string> = {
  owner: 'Everything, including the team: invites, roles, disabling and removing people.',
  admin: 'Everything but the team: sends, erasure, imports, exports, webhooks, queues and the audit log.',
  editor: 'Writes and previews drafts and sends tests; reads subscribers. Cannot start, schedule, cancel or erase.',
  viewer: 'Reads campaigns, reports and subscribers; changes nothing.',
};
