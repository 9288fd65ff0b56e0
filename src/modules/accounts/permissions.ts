/**
 * Roles and permissions, as ONE declarative table: every route of the API names the
 * permission it needs, and the auth hook (auth-hook.ts) checks it for users and tokens alike. A
 * route missing here is refused to everyone (403), and test/foundation/role-matrix.test.ts fails
 * naming it: a new route is classified here, in one line. Pure: the console imports it too.
 */

export const ROLES = ['owner', 'admin', 'marketer', 'analyst'] as const;
export type Role = (typeof ROLES)[number];

export const PERMISSIONS = [
  'merchants:read',
  'merchants:write',
  'pools:read',
  'pools:write',
  'uploads:read',
  'uploads:write',
  'codes:read',
  'codes:export',
  'assignments:read',
  'assignments:write',
  'assignments:export',
  'redemptions:read',
  'redemptions:write',
  'fields:read',
  'fields:write',
  'contacts:read',
  'contacts:write',
  'contacts:export',
  'messages:read',
  'messages:write',
  'conversations:read',
  'conversations:write',
  'events:write',
  'outbox:read',
  'suppressions:read',
  'suppressions:write',
  'suppressions:delete',
  'webhooks:read',
  'webhooks:write',
  'settings:write',
  'tokens:read',
  'tokens:write',
  'users:read',
  'users:write',
  'audit:read',
  // Installation-wide: needs the installation admin token besides the role.
  'installation:admin',
] as const;
export type Permission = (typeof PERMISSIONS)[number];

/** Exports of personal data: never for analysts. */
const PERSONAL_EXPORTS: Permission[] = ['codes:export', 'assignments:export', 'contacts:export'];
const ADMIN_EXCLUDED: Permission[] = ['users:read', 'users:write', 'tokens:read', 'tokens:write', 'settings:write', 'installation:admin'];
const MARKETER_AREAS = ['pools', 'uploads', 'codes', 'assignments', 'redemptions', 'fields', 'contacts', 'messages', 'conversations'];

export const ROLE_PERMISSIONS: Record<Role, ReadonlySet<Permission>> = {
  owner: new Set(PERMISSIONS),
  // Everything but users, tokens and account settings.
  admin: new Set(PERMISSIONS.filter((p) => !ADMIN_EXCLUDED.includes(p))),
  // The campaign work; no settings, users, tokens, merchants, audit, nor removing suppressions.
  marketer: new Set([
    ...PERMISSIONS.filter((p) => MARKETER_AREAS.includes(p.split(':')[0]!)),
    'merchants:read',
    'events:write',
    'outbox:read',
    'suppressions:read',
    'suppressions:write',
  ] as Permission[]),
  // Read only, no exports of personal data; the audit log is for owners and admins.
  analyst: new Set(
    PERMISSIONS.filter(
      (p) =>
        p.endsWith(':read') && !PERSONAL_EXPORTS.includes(p) && !['users:read', 'tokens:read', 'audit:read', 'webhooks:read'].includes(p),
    ),
  ),
};

/**
 * What a route needs. `self`: any signed-in caller (its own session, the API description).
 * `audit`: the action recorded for a state-changing call (`<resource>.<verb>`); omitted on calls
 * that change nothing (reads, validations, previews). `id`: where the resource id comes from —
 * a route param, or `new` (the first id minted by the change: the created resource).
 */
export interface RouteRule {
  permission: Permission | 'self';
  audit?: string;
  id?: string;
}

const read = (permission: Permission | 'self'): RouteRule => ({ permission });
const change = (permission: Permission, audit: string, id?: string): RouteRule => ({ permission, audit, ...(id ? { id } : {}) });
/** A POST that changes nothing (validate, preview, check). */
const query = (permission: Permission): RouteRule => ({ permission });

export const ROUTE_RULES: Record<string, RouteRule> = {
  'GET /openapi.json': read('self'),
  'GET /docs': read('self'),
  'GET /metrics': read('installation:admin'),
  'POST /v1/accounts': change('installation:admin', 'account.create', 'new'),
  // The whole embedded database, every account's: for `couponflow backup` while serve runs.
  'GET /v1/backup': read('installation:admin'),
  'GET /v1/session': read('self'),
  'DELETE /v1/session': read('self'),

  'GET /v1/merchants': read('merchants:read'),
  'POST /v1/merchants': change('merchants:write', 'merchant.create', 'new'),
  'GET /v1/merchants/:merchantId': read('merchants:read'),

  'GET /v1/tokens': read('tokens:read'),
  'POST /v1/tokens': change('tokens:write', 'token.create', 'new'),
  'DELETE /v1/tokens/:tokenId': change('tokens:write', 'token.revoke'),
  'GET /v1/users': read('users:read'),
  'POST /v1/users': change('users:write', 'user.invite', 'new'),
  'PATCH /v1/users/:userId': change('users:write', 'user.update'),
  'DELETE /v1/users/:userId': change('users:write', 'user.remove'),
  'GET /v1/audit': read('audit:read'),

  'GET /v1/merchants/:merchantId/pools': read('pools:read'),
  'POST /v1/merchants/:merchantId/pools': change('pools:write', 'pool.create', 'new'),
  'GET /v1/pools/:poolId': read('pools:read'),
  'PATCH /v1/pools/:poolId': change('pools:write', 'pool.update'),
  'GET /v1/pools/:poolId/static-codes': read('pools:read'),
  'PUT /v1/pools/:poolId/static-codes': change('pools:write', 'pool.static_codes'),
  'POST /v1/pools/:poolId/static-codes/validate': query('pools:read'),
  'POST /v1/pools/:poolId/uploads': change('uploads:write', 'upload.create', 'poolId'),
  'GET /v1/pools/:poolId/uploads': read('uploads:read'),
  'GET /v1/uploads/:uploadId': read('uploads:read'),
  'DELETE /v1/uploads/:uploadId': change('uploads:write', 'upload.undo'),
  'POST /v1/pools/:poolId/archive': change('pools:write', 'pool.archive'),
  'POST /v1/pools/:poolId/unarchive': change('pools:write', 'pool.unarchive'),
  'POST /v1/pools/:poolId/generate': change('uploads:write', 'upload.generate', 'poolId'),
  'POST /v1/pools/:poolId/assignments': change('assignments:write', 'assignment.create', 'poolId'),
  'GET /v1/pools/:poolId/assignments': read('assignments:read'),
  'GET /v1/pools/:poolId/assignments/export': read('assignments:export'),
  'GET /v1/pools/:poolId/codes': read('codes:read'),
  'GET /v1/pools/:poolId/codes/export': read('codes:export'),

  'POST /v1/merchants/:merchantId/codes/validate': query('redemptions:read'),
  'POST /v1/merchants/:merchantId/redemptions': change('redemptions:write', 'redemption.create', 'merchantId'),
  'GET /v1/merchants/:merchantId/redemptions': read('redemptions:read'),
  'POST /v1/redemptions/:redemptionId/rollback': change('redemptions:write', 'redemption.rollback'),
  'POST /v1/merchants/:merchantId/redemptions/import': change('redemptions:write', 'redemption.import', 'merchantId'),
  'GET /v1/pools/:poolId/report': read('pools:read'),

  'GET /v1/webhooks': read('webhooks:read'),
  'POST /v1/webhooks': change('webhooks:write', 'webhook.create', 'new'),
  'DELETE /v1/webhooks/:webhookId': change('webhooks:write', 'webhook.delete'),
  'GET /v1/webhooks/:webhookId/deliveries': read('webhooks:read'),
  // The Shopify secret is an integration's credential: managed with the webhooks.
  'GET /v1/merchants/:merchantId/integrations/shopify': read('webhooks:read'),
  'PUT /v1/merchants/:merchantId/integrations/shopify': change('webhooks:write', 'integration.shopify', 'merchantId'),

  'GET /v1/field-groups': read('fields:read'),
  'POST /v1/field-groups': change('fields:write', 'field_group.create', 'new'),
  'GET /v1/field-groups/:groupId': read('fields:read'),
  'POST /v1/field-groups/:groupId/fields': change('fields:write', 'field.create', 'new'),
  'DELETE /v1/field-groups/:groupId/fields/:fieldId': change('fields:write', 'field.delete'),
  'DELETE /v1/field-groups/:groupId': change('fields:write', 'field_group.delete'),

  'PUT /v1/contacts': change('contacts:write', 'contact.upsert', 'new'),
  'GET /v1/contacts': read('contacts:read'),
  'GET /v1/contacts/:contactId': read('contacts:read'),
  'POST /v1/contacts/import': change('contacts:write', 'contact.import'),
  // Erasure: the entry names the action, not whom it was about (the person is gone).
  'DELETE /v1/contacts/:contactId': change('contacts:write', 'contact.erase', 'none'),
  'GET /v1/contacts/:contactId/export': read('contacts:export'),
  'POST /v1/events': change('events:write', 'event.record', 'new'),
  'POST /v1/events/batch': change('events:write', 'event.batch'),

  'GET /v1/messages': read('messages:read'),
  'POST /v1/messages': change('messages:write', 'message.create', 'new'),
  'GET /v1/messages/:id': read('messages:read'),
  'PUT /v1/messages/:id': change('messages:write', 'message.update'),
  'DELETE /v1/messages/:id': change('messages:write', 'message.delete'),
  'POST /v1/messages/:id/preview': query('messages:read'),
  'POST /v1/messages/:id/test': change('messages:write', 'message.test_send'),

  'GET /v1/conversations': read('conversations:read'),
  'POST /v1/conversations': change('conversations:write', 'conversation.create', 'new'),
  'GET /v1/conversations/:conversationId': read('conversations:read'),
  'PUT /v1/conversations/:conversationId': change('conversations:write', 'conversation.update'),
  'POST /v1/conversations/:conversationId/steps/:stepId/commit': change(
    'conversations:write',
    'conversation.commit_step',
    'conversationId',
  ),
  'POST /v1/conversations/:conversationId/check': query('conversations:read'),
  'POST /v1/conversations/:conversationId/publish': change('conversations:write', 'conversation.publish'),
  'POST /v1/conversations/:conversationId/pause': change('conversations:write', 'conversation.pause'),
  'POST /v1/conversations/:conversationId/resume': change('conversations:write', 'conversation.resume'),
  'DELETE /v1/conversations/:conversationId': change('conversations:write', 'conversation.delete'),
  'POST /v1/conversations/:conversationId/archive': change('conversations:write', 'conversation.archive'),
  'POST /v1/conversations/:conversationId/unarchive': change('conversations:write', 'conversation.unarchive'),
  'GET /v1/conversations/:conversationId/enrollments': read('conversations:read'),
  'POST /v1/conversations/:conversationId/enrollments/:enrollmentId/resume': change('conversations:write', 'enrollment.resume'),
  'GET /v1/conductor/settings': read('conversations:read'),
  'PUT /v1/conductor/settings': change('conversations:write', 'conductor.settings', 'none'),

  'GET /v1/outbox': read('outbox:read'),
  'GET /v1/outbox/:mailId': read('outbox:read'),

  'GET /v1/suppressions': read('suppressions:read'),
  'POST /v1/suppressions': change('suppressions:write', 'suppression.create', 'none'),
  'POST /v1/suppressions/import': change('suppressions:write', 'suppression.import'),
  // The address is personal data: the entry names the action, not whom it was about.
  'DELETE /v1/suppressions/:email': change('suppressions:delete', 'suppression.delete', 'none'),
};

/** The rule of a route (`GET /v1/pools/:poolId`); HEAD is its GET. undefined: not classified. */
export function ruleOf(method: string, url: string): RouteRule | undefined {
  return ROUTE_RULES[`${method === 'HEAD' ? 'GET' : method} ${url}`];
}

export const roleCan = (role: Role, permission: Permission | 'self'): boolean =>
  permission === 'self' || ROLE_PERMISSIONS[role].has(permission);
