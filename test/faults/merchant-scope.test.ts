import { afterAll, beforeAll, expect, it } from 'vitest';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { describeEachEngine } from '../helpers/engines.ts';
import { newTenant, testApp, type TestTenant } from '../helpers/app.ts';
import { api } from '../conductor/setup.ts';
import { multipart } from '../helpers/multipart.ts';

/**
 * Merchant scope, route by route (docs/ARCHITECTURE.md, "Merchant scope"). One account, merchants A
 * and B, each with a unique pool (uploaded codes, an upload, an assignment), a static pool, coupon
 * fields, a message and a live conversation that has mailed a code to a contact. A token limited to
 * A calls every route of the route table once against B's resources (refused, or answered without
 * B's data) and once against A's (it works): a route added without a case here fails the first test.
 */

type Side = 'A' | 'B';
type Call = Omit<InjectOptions, 'headers'> & { headers?: Record<string, string> };
interface Resources {
  merchantId: string;
  poolId: string;
  staticPoolId: string;
  uploadId: string;
  groupName: string;
  codeFieldId: string;
  messageId: string;
  conversation: { id: string; steps: { id: string; type: string }[] };
  contact: { id: string; email: string; code: string };
  mailId: string;
  /** A second live conversation on the pool, triggered by `again_<merchantId>`. */
  againId: string;
}
interface Fixture {
  A: Resources;
  B: Resources;
  /** A fresh live conversation on this side's pool (for pause/resume/publish). */
  live(side: Side): Promise<{ id: string; steps: { id: string; type: string }[] }>;
  full: (call: Call) => Promise<LightMyRequestResponse>;
}

/** Refused for B (with this status and error code), 2xx for A. */
interface Refused {
  kind: 'refused';
  status: 403 | 404;
  call: (r: Resources, fx: Fixture, side: Side) => Call | Promise<Call>;
  /** A's answer when not 2xx: the call passed the scope and met a domain rule (e.g. 409 for a run that is not failed). */
  aStatus?: number;
}
/** Answered for both; B's data is absent from the answer, A's is present. */
interface Filtered {
  kind: 'filtered';
  call: (r: Resources, fx: Fixture, side: Side) => Call | Promise<Call>;
  /** Does the answer show this side's resource? */
  shows: (res: LightMyRequestResponse, r: Resources) => boolean;
}
/** Not about one merchant's data (account-wide, or the caller itself): it simply works for the limited token. */
interface AccountWide {
  kind: 'account';
  why: string;
  call: (fx: Fixture) => Call | Promise<Call>;
  status?: number;
}
/** Refused to any merchant-limited token. */
interface Unlimited {
  kind: 'not-for-limited';
  call: (fx: Fixture) => Call;
}
type Case = Refused | Filtered | AccountWide | Unlimited;

const json = (payload: object) => ({ payload, headers: { 'content-type': 'application/json' } });
const uploadCall = (poolId: string): Call => {
  const body = multipart({ expiration: 'none' }, { content: `NEW-${Math.random().toString(36).slice(2, 10)}\n` });
  return { method: 'POST', url: `/v1/pools/${poolId}/uploads`, payload: body.payload, headers: body.headers };
};
const staticRows = {
  rows: [{ code: 'STATIC-1', expiresOn: '2026-12-31', beginDistribution: '2026-01-01', endDistribution: '2026-12-31' }],
};
const has = (res: LightMyRequestResponse, text: string) => res.body.includes(text);
/** A message's body: a fresh name, the sender, a one-line HTML part. */
const messageBody = (html = '<p>Hi</p>', name = `m ${Math.random()}`) => ({
  name,
  fromName: 'Shop',
  fromEmail: 'shop@example.com',
  subject: 'Hi',
  html,
  text: null,
});
/** A fresh unique pool of this side's merchant, made by the unlimited token; its id. */
const freshPool = async (r: Resources, fx: Fixture): Promise<string> => {
  const made = await fx.full({
    method: 'POST',
    url: `/v1/merchants/${r.merchantId}/pools`,
    ...json({ name: `fresh-${Math.random().toString(36).slice(2, 8)}`, type: 'unique' }),
  });
  return made.json().id;
};

const conversationBody = (r: Resources, name: string) => ({
  name,
  trigger: { event: `cart_abandoned_${name.replace(/\W/g, '')}` },
  steps: [
    {
      type: 'action',
      name: 'Assign',
      action: { type: 'assignCoupon', merchantId: r.merchantId, poolId: r.poolId, saveCodeTo: r.codeFieldId, whenNoCode: 'continue' },
    },
    { type: 'message', name: 'Mail', messageId: r.messageId },
  ],
});

/** Every guarded route of the route table, classified. Public routes are the route-table test's. */
const CASES: Record<string, Case> = {
  // The merchant itself: a merchant outside the token's list is forbidden (403), as before.
  'GET /v1/merchants/:merchantId': { kind: 'refused', status: 403, call: (r) => ({ method: 'GET', url: `/v1/merchants/${r.merchantId}` }) },
  'GET /v1/merchants/:merchantId/pools': {
    kind: 'refused',
    status: 403,
    call: (r) => ({ method: 'GET', url: `/v1/merchants/${r.merchantId}/pools` }),
  },
  'POST /v1/merchants/:merchantId/pools': {
    kind: 'refused',
    status: 403,
    call: (r) => ({
      method: 'POST',
      url: `/v1/merchants/${r.merchantId}/pools`,
      ...json({ name: `p${Math.random().toString(36).slice(2, 8)}`, type: 'unique' }),
    }),
  },
  'GET /v1/merchants': {
    kind: 'filtered',
    call: () => ({ method: 'GET', url: '/v1/merchants' }),
    shows: (res, r) => has(res, r.merchantId),
  },
  // A merchant's own resources: not found (404), like another account's.
  'GET /v1/pools/:poolId': { kind: 'refused', status: 404, call: (r) => ({ method: 'GET', url: `/v1/pools/${r.poolId}` }) },
  'PATCH /v1/pools/:poolId': {
    kind: 'refused',
    status: 404,
    call: (r) => ({ method: 'PATCH', url: `/v1/pools/${r.poolId}`, ...json({ threshold: 1 }) }),
  },
  'POST /v1/pools/:poolId/uploads': { kind: 'refused', status: 404, call: (r) => uploadCall(r.poolId) },
  'GET /v1/pools/:poolId/uploads': { kind: 'refused', status: 404, call: (r) => ({ method: 'GET', url: `/v1/pools/${r.poolId}/uploads` }) },
  'POST /v1/pools/:poolId/generate': {
    kind: 'refused',
    status: 404,
    call: (r) => ({ method: 'POST', url: `/v1/pools/${r.poolId}/generate`, ...json({ count: 2, length: 10 }) }),
  },
  'GET /v1/pools/:poolId/static-codes': {
    kind: 'refused',
    status: 404,
    call: (r) => ({ method: 'GET', url: `/v1/pools/${r.staticPoolId}/static-codes` }),
  },
  'PUT /v1/pools/:poolId/static-codes': {
    kind: 'refused',
    status: 404,
    call: (r) => ({ method: 'PUT', url: `/v1/pools/${r.staticPoolId}/static-codes`, ...json(staticRows) }),
  },
  'POST /v1/pools/:poolId/static-codes/validate': {
    kind: 'refused',
    status: 404,
    call: (r) => ({ method: 'POST', url: `/v1/pools/${r.staticPoolId}/static-codes/validate`, ...json(staticRows) }),
  },
  'POST /v1/pools/:poolId/assignments': {
    kind: 'refused',
    status: 404,
    call: (r) => ({
      method: 'POST',
      url: `/v1/pools/${r.poolId}/assignments`,
      ...json({ email: 'taker@example.com', idempotencyKey: `k-${Math.random()}` }),
    }),
  },
  'GET /v1/pools/:poolId/assignments': {
    kind: 'refused',
    status: 404,
    call: (r) => ({ method: 'GET', url: `/v1/pools/${r.poolId}/assignments` }),
  },
  'GET /v1/pools/:poolId/codes': { kind: 'refused', status: 404, call: (r) => ({ method: 'GET', url: `/v1/pools/${r.poolId}/codes` }) },
  'GET /v1/pools/:poolId/codes/export': {
    kind: 'refused',
    status: 404,
    call: (r) => ({ method: 'GET', url: `/v1/pools/${r.poolId}/codes/export` }),
  },
  // Lifecycle (undo, archive, delete): each call on a fresh upload or pool of the side's merchant (made by the unlimited token).
  'GET /v1/uploads/:uploadId': {
    kind: 'refused',
    status: 404,
    call: async (r, fx) => {
      const body = multipart({ expiration: 'none' }, { content: `READ-${Math.random().toString(36).slice(2, 10)}\n` });
      const made = await fx.full({ method: 'POST', url: `/v1/pools/${r.poolId}/uploads`, payload: body.payload, headers: body.headers });
      return { method: 'GET', url: `/v1/uploads/${made.json().id}` };
    },
  },
  'DELETE /v1/uploads/:uploadId': {
    kind: 'refused',
    status: 404,
    call: async (r, fx) => {
      const body = multipart({ expiration: 'none' }, { content: `UNDO-${Math.random().toString(36).slice(2, 10)}\n` });
      const made = await fx.full({ method: 'POST', url: `/v1/pools/${r.poolId}/uploads`, payload: body.payload, headers: body.headers });
      return { method: 'DELETE', url: `/v1/uploads/${made.json().id}` };
    },
  },
  'POST /v1/pools/:poolId/archive': {
    kind: 'refused',
    status: 404,
    call: async (r, fx) => ({ method: 'POST', url: `/v1/pools/${await freshPool(r, fx)}/archive` }),
  },
  'POST /v1/pools/:poolId/unarchive': {
    kind: 'refused',
    status: 404,
    call: async (r, fx) => {
      const poolId = await freshPool(r, fx);
      await fx.full({ method: 'POST', url: `/v1/pools/${poolId}/archive` });
      return { method: 'POST', url: `/v1/pools/${poolId}/unarchive` };
    },
  },
  'GET /v1/pools/:poolId/report': { kind: 'refused', status: 404, call: (r) => ({ method: 'GET', url: `/v1/pools/${r.poolId}/report` }) },
  // Checkout under /v1/merchants/{id}: another merchant is forbidden, as the merchant itself.
  'POST /v1/merchants/:merchantId/codes/validate': {
    kind: 'refused',
    status: 403,
    call: (r) => ({ method: 'POST', url: `/v1/merchants/${r.merchantId}/codes/validate`, ...json({ code: r.contact.code }) }),
  },
  'POST /v1/merchants/:merchantId/redemptions': {
    kind: 'refused',
    status: 403,
    call: (r) => ({
      method: 'POST',
      url: `/v1/merchants/${r.merchantId}/redemptions`,
      ...json({ code: r.contact.code, orderId: `order-${Math.random()}` }),
    }),
  },
  'GET /v1/merchants/:merchantId/redemptions': {
    kind: 'refused',
    status: 403,
    call: (r) => ({ method: 'GET', url: `/v1/merchants/${r.merchantId}/redemptions` }),
  },
  'POST /v1/merchants/:merchantId/redemptions/import': {
    kind: 'refused',
    status: 403,
    call: (r) => {
      // A code nobody holds (skip: 201 with the line reported): the checkout cases keep the contact's code unredeemed.
      const body = multipart(
        { onInvalid: 'skip' },
        { content: `code,orderId\nNOBODY-${r.merchantId.slice(-6)},import-${Math.random()}\n`, name: 'orders.csv' },
      );
      return { method: 'POST', url: `/v1/merchants/${r.merchantId}/redemptions/import`, payload: body.payload, headers: body.headers };
    },
  },
  // A redemption of B's code (made by the unlimited token) is not found for A's token.
  'POST /v1/redemptions/:redemptionId/rollback': {
    kind: 'refused',
    status: 404,
    call: async (r, fx) => {
      const made = await fx.full({
        method: 'POST',
        url: `/v1/merchants/${r.merchantId}/redemptions`,
        ...json({ code: r.contact.code, orderId: `order-${Math.random()}` }),
      });
      // The code may already be redeemed (the redemptions case above redeems A's): take that one.
      const live = async () =>
        (
          (await fx.full({ method: 'GET', url: `/v1/merchants/${r.merchantId}/redemptions` })).json().items as {
            id: string;
            code: string;
            rolledBackAt: string | null;
          }[]
        ).find((x) => x.code === r.contact.code && !x.rolledBackAt)?.id;
      const id = made.statusCode === 201 ? (made.json().id as string) : await live();
      expect(id).toBeTruthy();
      return { method: 'POST', url: `/v1/redemptions/${id}/rollback` };
    },
  },
  // A limited token mints tokens only within its own merchants.
  // Likewise users: invited only within the inviter's merchants.
  'POST /v1/users': {
    kind: 'refused',
    status: 403,
    call: (r) => ({
      method: 'POST',
      url: '/v1/users',
      ...json({ email: `u${Math.random().toString(36).slice(2, 10)}@example.com`, role: 'marketer', merchantIds: [r.merchantId] }),
    }),
  },
  'POST /v1/tokens': {
    kind: 'refused',
    status: 403,
    call: (r) => ({ method: 'POST', url: '/v1/tokens', ...json({ name: 'minted', role: 'owner', merchantIds: [r.merchantId] }) }),
  },
  'GET /v1/pools/:poolId/assignments/export': {
    kind: 'refused',
    status: 404,
    call: (r) => ({ method: 'GET', url: `/v1/pools/${r.poolId}/assignments/export` }),
  },
  'GET /v1/outbox/:mailId': { kind: 'refused', status: 404, call: (r) => ({ method: 'GET', url: `/v1/outbox/${r.mailId}` }) },
  // Conversations belong to the account; one that uses another merchant's pool is forbidden (403).
  'POST /v1/conversations': {
    kind: 'refused',
    status: 403,
    call: (r) => ({ method: 'POST', url: '/v1/conversations', ...json(conversationBody(r, `new ${Math.random()}`)) }),
  },
  'GET /v1/conversations/:conversationId': {
    kind: 'refused',
    status: 403,
    call: (r) => ({ method: 'GET', url: `/v1/conversations/${r.conversation.id}` }),
  },
  'PUT /v1/conversations/:conversationId': {
    kind: 'refused',
    status: 403,
    call: async (r, fx, side) => {
      const c = await fx.live(side);
      return { method: 'PUT', url: `/v1/conversations/${c.id}`, ...json(conversationBody(r, `edited ${Math.random()}`)) };
    },
  },
  'POST /v1/conversations/:conversationId/steps/:stepId/commit': {
    kind: 'refused',
    status: 403,
    call: (r) => ({
      method: 'POST',
      url: `/v1/conversations/${r.conversation.id}/steps/${r.conversation.steps.find((s) => s.type === 'message')!.id}/commit`,
    }),
  },
  'POST /v1/conversations/:conversationId/check': {
    kind: 'refused',
    status: 403,
    call: (r) => ({ method: 'POST', url: `/v1/conversations/${r.conversation.id}/check` }),
  },
  'POST /v1/conversations/:conversationId/publish': {
    kind: 'refused',
    status: 403,
    call: async (_r, fx, side) => ({ method: 'POST', url: `/v1/conversations/${(await fx.live(side)).id}/publish` }),
  },
  'POST /v1/conversations/:conversationId/pause': {
    kind: 'refused',
    status: 403,
    call: async (_r, fx, side) => ({ method: 'POST', url: `/v1/conversations/${(await fx.live(side)).id}/pause` }),
  },
  'POST /v1/conversations/:conversationId/resume': {
    kind: 'refused',
    status: 403,
    call: async (_r, fx, side) => {
      const c = await fx.live(side);
      expect((await fx.full({ method: 'POST', url: `/v1/conversations/${c.id}/pause` })).statusCode).toBe(200);
      return { method: 'POST', url: `/v1/conversations/${c.id}/resume` };
    },
  },
  // Lifecycle (delete, archive): a fresh draft, or a fresh live conversation, of the side's merchant.
  'DELETE /v1/conversations/:conversationId': {
    kind: 'refused',
    status: 403,
    call: async (r, fx) => {
      const made = await fx.full({ method: 'POST', url: '/v1/conversations', ...json(conversationBody(r, `draft ${Math.random()}`)) });
      return { method: 'DELETE', url: `/v1/conversations/${made.json().id}` };
    },
  },
  'POST /v1/conversations/:conversationId/archive': {
    kind: 'refused',
    status: 403,
    call: async (_r, fx, side) => ({ method: 'POST', url: `/v1/conversations/${(await fx.live(side)).id}/archive` }),
  },
  'POST /v1/conversations/:conversationId/unarchive': {
    kind: 'refused',
    status: 403,
    call: async (_r, fx, side) => {
      const c = await fx.live(side);
      expect((await fx.full({ method: 'POST', url: `/v1/conversations/${c.id}/archive` })).statusCode).toBe(200);
      return { method: 'POST', url: `/v1/conversations/${c.id}/unarchive` };
    },
  },
  'POST /v1/conversations/:conversationId/enrollments/:enrollmentId/resume': {
    kind: 'refused',
    status: 403,
    // A's run is active, not failed: 409 invalid_state shows the call got past the scope to the rule.
    aStatus: 409,
    call: async (r, fx) => {
      const runs = (await fx.full({ method: 'GET', url: `/v1/conversations/${r.conversation.id}/enrollments` })).json().items as {
        id: string;
      }[];
      expect(runs.length).toBeGreaterThan(0);
      return { method: 'POST', url: `/v1/conversations/${r.conversation.id}/enrollments/${runs[0]!.id}/resume` };
    },
  },
  'GET /v1/conversations/:conversationId/enrollments': {
    kind: 'refused',
    status: 403,
    call: (r) => ({ method: 'GET', url: `/v1/conversations/${r.conversation.id}/enrollments` }),
  },
  'GET /v1/conversations': {
    kind: 'filtered',
    call: () => ({ method: 'GET', url: '/v1/conversations?limit=500' }),
    shows: (res, r) => has(res, r.conversation.id),
  },
  // Mail and contacts: B's mail is not listed; B's coupon field and B's runs are left out of contacts.
  'GET /v1/outbox': {
    kind: 'filtered',
    call: () => ({ method: 'GET', url: '/v1/outbox?limit=500' }),
    shows: (res, r) => has(res, r.mailId) || has(res, r.contact.code),
  },
  'GET /v1/contacts/:contactId': {
    kind: 'filtered',
    call: (r) => ({ method: 'GET', url: `/v1/contacts/${r.contact.id}` }),
    shows: (res, r) => has(res, r.contact.code) || has(res, r.conversation.id),
  },
  'GET /v1/contacts': {
    kind: 'filtered',
    call: (r, _fx, side) => ({
      method: 'GET',
      url: side === 'A' ? `/v1/contacts?email=${encodeURIComponent(r.contact.email)}` : '/v1/contacts?limit=500',
    }),
    shows: (res, r) => has(res, r.contact.code) || has(res, r.conversation.id),
  },
  'PUT /v1/contacts': {
    kind: 'refused',
    status: 403,
    call: (r) => ({
      method: 'PUT',
      url: '/v1/contacts',
      ...json({ email: `written-${Math.random().toString(36).slice(2)}@example.com`, fields: { [r.groupName]: { Code: 'WRITTEN' } } }),
    }),
  },
  'POST /v1/messages/:id/preview': {
    kind: 'filtered',
    call: (r) => ({ method: 'POST', url: `/v1/messages/${r.messageId}/preview`, ...json({ contactId: r.contact.id }) }),
    shows: (res, r) => has(res, r.contact.code),
  },
  // Account-wide: not one merchant's data.
  'GET /v1/session': { kind: 'account', why: 'the caller itself', call: () => ({ method: 'GET', url: '/v1/session' }) },
  'DELETE /v1/session': {
    kind: 'account',
    why: 'signing out (no session with a token: nothing to end)',
    call: () => ({ method: 'DELETE', url: '/v1/session' }),
    status: 204,
  },
  'GET /openapi.json': { kind: 'account', why: 'the API description', call: () => ({ method: 'GET', url: '/openapi.json' }) },
  'GET /docs': { kind: 'account', why: 'the API docs page', call: () => ({ method: 'GET', url: '/docs' }) },
  'GET /v1/field-groups': {
    kind: 'account',
    why: 'fields belong to the account (values are redacted on contacts)',
    call: () => ({ method: 'GET', url: '/v1/field-groups' }),
  },
  'POST /v1/field-groups': {
    kind: 'account',
    why: 'fields belong to the account',
    call: () => ({ method: 'POST', url: '/v1/field-groups', ...json({ name: `G${Math.random().toString(36).slice(2, 8)}` }) }),
    status: 201,
  },
  'GET /v1/field-groups/:groupId': {
    kind: 'account',
    why: 'fields belong to the account',
    call: async (fx) => ({
      method: 'GET',
      url: `/v1/field-groups/${(await fx.full({ method: 'GET', url: '/v1/field-groups' })).json().items[0].id}`,
    }),
  },
  'POST /v1/field-groups/:groupId/fields': {
    kind: 'account',
    why: 'fields belong to the account',
    call: async (fx) => {
      const group = (
        await fx.full({ method: 'POST', url: '/v1/field-groups', ...json({ name: `G${Math.random().toString(36).slice(2, 8)}` }) })
      ).json();
      return { method: 'POST', url: `/v1/field-groups/${group.id}/fields`, ...json({ name: 'Note', type: 'text' }) };
    },
    status: 201,
  },
  'DELETE /v1/field-groups/:groupId/fields/:fieldId': {
    kind: 'account',
    why: 'fields belong to the account (a field nothing uses)',
    call: async (fx) => {
      const group = (
        await fx.full({ method: 'POST', url: '/v1/field-groups', ...json({ name: `G${Math.random().toString(36).slice(2, 8)}` }) })
      ).json();
      const field = (
        await fx.full({ method: 'POST', url: `/v1/field-groups/${group.id}/fields`, ...json({ name: 'Note', type: 'text' }) })
      ).json();
      return { method: 'DELETE', url: `/v1/field-groups/${group.id}/fields/${field.id}` };
    },
  },
  'DELETE /v1/field-groups/:groupId': {
    kind: 'account',
    why: 'fields belong to the account (a group nothing uses)',
    call: async (fx) => {
      const group = (
        await fx.full({ method: 'POST', url: '/v1/field-groups', ...json({ name: `G${Math.random().toString(36).slice(2, 8)}` }) })
      ).json();
      return { method: 'DELETE', url: `/v1/field-groups/${group.id}` };
    },
  },
  'DELETE /v1/messages/:id': {
    kind: 'account',
    why: 'messages belong to the account (a message nothing sends)',
    call: async (fx) => {
      const m = (
        await fx.full({
          method: 'POST',
          url: '/v1/messages',
          ...json({
            name: `m ${Math.random()}`,
            fromName: 'Shop',
            fromEmail: 'shop@example.com',
            subject: 'Hi',
            html: '<p>Hi</p>',
            text: null,
          }),
        })
      ).json();
      return { method: 'DELETE', url: `/v1/messages/${m.id}` };
    },
    status: 204,
  },
  'GET /v1/conductor/settings': {
    kind: 'account',
    why: "the frequency cap is the account's",
    call: () => ({ method: 'GET', url: '/v1/conductor/settings' }),
  },
  'PUT /v1/conductor/settings': {
    kind: 'account',
    why: "the frequency cap is the account's",
    call: () => ({ method: 'PUT', url: '/v1/conductor/settings', ...json({ frequencyCap: null }) }),
  },
  'GET /v1/suppressions': {
    kind: 'account',
    why: "the suppression list is the account's",
    call: () => ({ method: 'GET', url: '/v1/suppressions' }),
  },
  'POST /v1/suppressions': {
    kind: 'account',
    why: "the suppression list is the account's",
    call: () => ({ method: 'POST', url: '/v1/suppressions', ...json({ email: `s${Math.random().toString(36).slice(2, 8)}@example.com` }) }),
    status: 201,
  },
  'POST /v1/suppressions/import': {
    kind: 'account',
    why: "the suppression list is the account's",
    call: () => {
      const body = multipart({}, { content: `i${Math.random().toString(36).slice(2, 8)}@example.com\n` });
      return { method: 'POST', url: '/v1/suppressions/import', payload: body.payload, headers: body.headers };
    },
  },
  'DELETE /v1/suppressions/:email': {
    kind: 'account',
    why: "the suppression list is the account's",
    call: async (fx) => {
      const email = `d${Math.random().toString(36).slice(2, 8)}@example.com`;
      await fx.full({ method: 'POST', url: '/v1/suppressions', ...json({ email }) });
      return { method: 'DELETE', url: `/v1/suppressions/${email}` };
    },
    status: 204,
  },
  'POST /v1/messages/:id/test': {
    kind: 'account',
    why: 'messages belong to the account; a test send renders for a sample contact here',
    call: (fx) => ({ method: 'POST', url: `/v1/messages/${fx.B.messageId}/test`, ...json({ to: ['tester@example.com'] }) }),
    status: 202,
  },
  'GET /v1/messages': {
    kind: 'account',
    why: 'messages belong to the account (templates, no contact data)',
    call: () => ({ method: 'GET', url: '/v1/messages' }),
  },
  'POST /v1/messages': {
    kind: 'account',
    why: 'messages belong to the account',
    call: () => ({
      method: 'POST',
      url: '/v1/messages',
      ...json(messageBody()),
    }),
    status: 201,
  },
  'GET /v1/messages/:id': {
    kind: 'account',
    why: 'messages belong to the account',
    call: (fx) => ({ method: 'GET', url: `/v1/messages/${fx.B.messageId}` }),
  },
  'PUT /v1/messages/:id': {
    kind: 'account',
    why: 'messages belong to the account; a conversation sends only its committed copy',
    call: async (fx) => {
      const m = (
        await fx.full({
          method: 'POST',
          url: '/v1/messages',
          ...json(messageBody()),
        })
      ).json();
      return {
        method: 'PUT',
        url: `/v1/messages/${m.id}`,
        ...json({ name: m.name, fromName: 'Shop', fromEmail: 'shop@example.com', subject: 'Hello', html: '<p>Hello</p>', text: null }),
      };
    },
  },
  'POST /v1/events': {
    kind: 'filtered',
    call: (r) => ({
      method: 'POST',
      url: '/v1/events',
      ...json({ type: `again_${r.merchantId}`, email: `event-${Math.random().toString(36).slice(2)}@example.com` }),
    }),
    shows: (res, r) => has(res, r.againId),
  },
  'POST /v1/events/batch': {
    kind: 'filtered',
    call: (r) => ({
      method: 'POST',
      url: '/v1/events/batch',
      ...json({ events: [{ type: `again_${r.merchantId}`, email: `batch-${Math.random().toString(36).slice(2)}@example.com` }] }),
    }),
    shows: (res, r) => has(res, r.againId),
  },
  'POST /v1/contacts/import': {
    kind: 'account',
    why: 'contacts belong to the account (the answer holds counts only)',
    call: () => {
      const body = multipart({ onInvalid: 'reject' }, { name: 'contacts.csv', content: 'email\nimported@example.com\n' });
      return { method: 'POST', url: '/v1/contacts/import', payload: body.payload, headers: body.headers };
    },
    status: 201,
  },
  // Only tokens that see every merchant.
  'GET /v1/tokens': { kind: 'not-for-limited', call: () => ({ method: 'GET', url: '/v1/tokens' }) },
  'GET /v1/users': { kind: 'not-for-limited', call: () => ({ method: 'GET', url: '/v1/users' }) },
  'PATCH /v1/users/:userId': {
    kind: 'not-for-limited',
    call: () => ({ method: 'PATCH', url: '/v1/users/01900000-0000-7000-8000-000000000000', ...json({ role: 'analyst' }) }),
  },
  'DELETE /v1/users/:userId': {
    kind: 'not-for-limited',
    call: () => ({ method: 'DELETE', url: '/v1/users/01900000-0000-7000-8000-000000000000' }),
  },
  'GET /v1/audit': { kind: 'not-for-limited', call: () => ({ method: 'GET', url: '/v1/audit' }) },
  'DELETE /v1/tokens/:tokenId': {
    kind: 'not-for-limited',
    call: () => ({ method: 'DELETE', url: '/v1/tokens/01900000-0000-7000-8000-000000000000' }),
  },
  'GET /v1/backup': { kind: 'not-for-limited', call: () => ({ method: 'GET', url: '/v1/backup' }) },
  'POST /v1/accounts': { kind: 'not-for-limited', call: () => ({ method: 'POST', url: '/v1/accounts', ...json({ name: 'Rival' }) }) },
  'POST /v1/merchants': {
    kind: 'not-for-limited',
    call: () => ({ method: 'POST', url: '/v1/merchants', ...json({ name: 'Sneaky', domain: 'sneaky.example.com' }) }),
  },
  'GET /metrics': { kind: 'not-for-limited', call: () => ({ method: 'GET', url: '/metrics' }) },
  // Webhooks receive every merchant's events (issue 14).
  // A contact's data spans every merchant: its erasure and export are for unlimited callers.
  'DELETE /v1/contacts/:contactId': { kind: 'not-for-limited', call: () => ({ method: 'DELETE', url: '/v1/contacts/nobody' }) },
  'GET /v1/contacts/:contactId/export': { kind: 'not-for-limited', call: () => ({ method: 'GET', url: '/v1/contacts/nobody/export' }) },
  'GET /v1/webhooks': { kind: 'not-for-limited', call: () => ({ method: 'GET', url: '/v1/webhooks' }) },
  'POST /v1/webhooks': {
    kind: 'not-for-limited',
    call: () => ({ method: 'POST', url: '/v1/webhooks', ...json({ url: 'https://hooks.example.com/in', events: ['code.assigned'] }) }),
  },
  'DELETE /v1/webhooks/:webhookId': {
    kind: 'not-for-limited',
    call: () => ({ method: 'DELETE', url: '/v1/webhooks/01900000-0000-7000-8000-000000000000' }),
  },
  'GET /v1/webhooks/:webhookId/deliveries': {
    kind: 'not-for-limited',
    call: () => ({ method: 'GET', url: '/v1/webhooks/01900000-0000-7000-8000-000000000000/deliveries' }),
  },
  // The merchant's Shopify connection: another merchant is forbidden, like every /v1/merchants/{id} route.
  'PUT /v1/merchants/:merchantId/integrations/shopify': {
    kind: 'refused',
    status: 403,
    call: (r) => ({
      method: 'PUT',
      url: `/v1/merchants/${r.merchantId}/integrations/shopify`,
      ...json({ webhookSecret: 'shpss_scope_test_secret' }),
    }),
  },
  'GET /v1/merchants/:merchantId/integrations/shopify': {
    kind: 'refused',
    status: 403,
    call: (r) => ({ method: 'GET', url: `/v1/merchants/${r.merchantId}/integrations/shopify` }),
  },
};

describeEachEngine('merchant scope', (ctx) => {
  let app: Awaited<ReturnType<typeof testApp>>;
  let t: TestTenant;
  let fx: Fixture;
  let limited: string;

  const inject = (token: { authorization: string }, call: Call) =>
    app.http.inject({ ...call, headers: { ...(call.headers ?? {}), ...token } } as InjectOptions);
  const asLimited = (call: Call) => inject({ authorization: `Bearer ${limited}` }, call);

  beforeAll(async () => {
    app = await testApp(ctx.database);
    t = await newTenant(app);
    const a = api(app, t);
    const full = (call: Call) => inject(t.auth, call);
    const merchantB = await a.call('POST', '/v1/merchants', { name: 'Outlet', domain: 'outlet.example.com' }, 201);
    limited = await app.services.accounts.createToken({ accountId: t.accountId, merchantIds: [t.merchantId] });

    const build = async (side: Side, merchantId: string): Promise<Resources> => {
      const pool = await a.call('POST', `/v1/merchants/${merchantId}/pools`, { name: `${side}-pool`, type: 'unique' }, 201);
      const codes = Array.from({ length: 20 }, (_, i) => `${side}CODE${String(i).padStart(3, '0')}`);
      const upload = await a.upload(pool.id, `${codes.join('\n')}\n`, { expiration: 'none' });
      await a.call('POST', `/v1/pools/${pool.id}/assignments`, { email: `assigned-${side}@example.com`, idempotencyKey: 'first' }, 201);
      const staticPool = await a.call('POST', `/v1/merchants/${merchantId}/pools`, { name: `${side}-static`, type: 'static' }, 201);
      await a.call('PUT', `/v1/pools/${staticPool.id}/static-codes`, staticRows, 200);
      const group = await a.call('POST', '/v1/field-groups', { name: `Shop${side}` }, 201);
      const code = await a.call('POST', `/v1/field-groups/${group.id}/fields`, { name: 'Code', type: 'text' }, 201);
      const message = await a.message(`<p>Your code: ${code.snippet}</p>`, `Code from ${side}`);
      const r = {
        merchantId,
        poolId: pool.id,
        staticPoolId: staticPool.id,
        uploadId: upload.id,
        groupName: group.name,
        codeFieldId: code.id,
        messageId: message.id,
      } as Resources;
      const conversation = await a.commit(await a.conversation(conversationBody(r, `${side} journey`)));
      await a.publish(conversation.id);
      // A second live conversation on the same pool, triggered by `again_<merchant>` (the events' case).
      const again = await a.commit(
        await a.conversation({ ...conversationBody(r, `${side} again`), trigger: { event: `again_${merchantId}` } }),
      );
      await a.publish(again.id);
      const email = `contact-${side}@example.com`;
      const event = await a.event(`cart_abandoned_${side}journey`, email);
      expect(event.enrolled).toEqual([conversation.id]);
      await app.services.engine.runDue();
      const [mail] = await a.mailsTo(email);
      const contact = await a.call('GET', `/v1/contacts/${event.contactId}`, undefined, 200);
      const given = contact.fields[group.name].Code as string;
      expect(given).toMatch(new RegExp(`^${side}CODE`));
      expect(mail!.html).toContain(given);
      return { ...r, conversation, contact: { id: event.contactId, email, code: given }, mailId: mail!.id, againId: again.id };
    };
    const A = await build('A', t.merchantId);
    const B = await build('B', merchantB.id);
    let n = 0;
    const live = async (side: Side) => {
      const r = side === 'A' ? A : B;
      const c = await a.commit(await a.conversation(conversationBody(r, `${side} live ${++n}`)));
      await a.publish(c.id);
      return c;
    };
    fx = { A, B, live, full };
  });
  afterAll(() => app.http.close());

  const guardedRoutes = () => app.http.routeTable.filter((r) => !r.public).map((r) => `${r.method} ${r.url}`);

  it('classifies every guarded route of the route table (a new route needs a case here)', () => {
    const routes = guardedRoutes();
    expect(routes.length).toBeGreaterThan(30);
    expect(routes.filter((key) => !(key in CASES))).toEqual([]);
    expect(Object.keys(CASES).filter((key) => !routes.includes(key))).toEqual([]);
  });

  it("refuses every route to B's resources for a token limited to A, and serves A's", async () => {
    const failures: string[] = [];
    for (const key of guardedRoutes()) {
      const c = CASES[key]!;
      if (c.kind === 'refused') {
        const b = await asLimited(await c.call(fx.B, fx, 'B'));
        if (b.statusCode !== c.status || b.json().error?.code !== (c.status === 403 ? 'forbidden' : 'not_found'))
          failures.push(`${key} on B: ${b.statusCode} ${b.body.slice(0, 160)}`);
        const a = await asLimited(await c.call(fx.A, fx, 'A'));
        const aRefused = c.aStatus ? a.statusCode !== c.aStatus : a.statusCode < 200 || a.statusCode > 299;
        if (aRefused) failures.push(`${key} on A: ${a.statusCode} ${a.body.slice(0, 160)}`);
      } else if (c.kind === 'filtered') {
        const b = await asLimited(await c.call(fx.B, fx, 'B'));
        if (b.statusCode < 200 || b.statusCode > 299 || c.shows(b, fx.B))
          failures.push(`${key} on B: ${b.statusCode}, shows B's data: ${b.body.slice(0, 160)}`);
        const a = await asLimited(await c.call(fx.A, fx, 'A'));
        if (a.statusCode < 200 || a.statusCode > 299 || !c.shows(a, fx.A))
          failures.push(`${key} on A: ${a.statusCode}, A's data missing: ${a.body.slice(0, 160)}`);
        // The account's unlimited token sees B's data through the same call: the filter is the scope.
        const full = await fx.full(await c.call(fx.B, fx, 'B'));
        if (!c.shows(full, fx.B)) failures.push(`${key} on B with the unlimited token: B's data missing: ${full.body.slice(0, 160)}`);
      } else if (c.kind === 'account') {
        const res = await asLimited(await c.call(fx));
        if (res.statusCode !== (c.status ?? 200)) failures.push(`${key} (${c.why}): ${res.statusCode} ${res.body.slice(0, 160)}`);
      } else {
        const res = await asLimited(c.call(fx));
        if (res.statusCode !== 403) failures.push(`${key} (unlimited tokens only): ${res.statusCode} ${res.body.slice(0, 160)}`);
      }
    }
    expect(failures).toEqual([]);
  });

  it("refuses a conversation that names B's pool or B itself, at create, edit and publish", async () => {
    const { A, B } = fx;
    const body = (merchantId: string, poolId: string) => ({
      name: `mixed ${Math.random()}`,
      trigger: { event: 'cart_abandoned' },
      steps: [
        {
          type: 'action',
          name: 'A code',
          action: { type: 'assignCoupon', merchantId: A.merchantId, poolId: A.poolId, saveCodeTo: A.codeFieldId, whenNoCode: 'continue' },
        },
        {
          type: 'action',
          name: 'B code',
          action: { type: 'assignCoupon', merchantId, poolId, saveCodeTo: B.codeFieldId, whenNoCode: 'continue' },
        },
      ],
    });
    const create = (payload: object) => asLimited({ method: 'POST', url: '/v1/conversations', ...json(payload) });
    // Naming A with B's pool: to this token B's pool does not exist. Naming B: forbidden.
    expect((await create(body(A.merchantId, B.poolId))).statusCode).toBe(404);
    expect((await create(body(A.merchantId, 'no-such-pool'))).statusCode).toBe(404);
    expect((await create(body(B.merchantId, B.poolId))).statusCode).toBe(403);

    const own = await create({ ...body(A.merchantId, A.poolId), steps: body(A.merchantId, A.poolId).steps.slice(0, 1) });
    expect(own.statusCode, own.body).toBe(201);
    const id = own.json().id as string;
    const edit = (payload: object) => asLimited({ method: 'PUT', url: `/v1/conversations/${id}`, ...json(payload) });
    expect((await edit(body(A.merchantId, B.poolId))).statusCode).toBe(404);
    expect((await edit(body(B.merchantId, B.poolId))).statusCode).toBe(403);
    expect((await asLimited({ method: 'GET', url: `/v1/conversations/${id}` })).json().steps).toHaveLength(1);

    // The unlimited token adds B's pool to the draft: from then on the limited token can neither
    // publish, pause nor read it, and the published A-only version does not make it visible again.
    expect((await asLimited({ method: 'POST', url: `/v1/conversations/${id}/publish` })).statusCode).toBe(200);
    const mixed = await fx.full({
      method: 'PUT',
      url: `/v1/conversations/${id}`,
      ...json({ ...body(B.merchantId, B.poolId), name: 'mixed later' }),
    });
    expect(mixed.statusCode, mixed.body).toBe(200);
    for (const action of ['publish', 'pause', 'check']) {
      const res = await asLimited({ method: 'POST', url: `/v1/conversations/${id}/${action}` });
      expect(res.statusCode, `${action}: ${res.body}`).toBe(403);
      expect(res.json().error.code).toBe('forbidden');
    }
    expect((await asLimited({ method: 'GET', url: '/v1/conversations?limit=500' })).body).not.toContain(id);
    // A conversation whose published version used B stays out of scope after B is edited out of the draft.
    expect((await fx.full({ method: 'POST', url: `/v1/conversations/${id}/publish` })).statusCode).toBe(200);
    expect(
      (
        await fx.full({
          method: 'PUT',
          url: `/v1/conversations/${id}`,
          ...json({ ...body(A.merchantId, A.poolId), name: 'A only again', steps: [] }),
        })
      ).statusCode,
    ).toBe(200);
    expect((await asLimited({ method: 'GET', url: `/v1/conversations/${id}` })).statusCode).toBe(403);
  });

  it("treats B's coupon fields as B's: a conversation that fills or reads one uses B", async () => {
    const { A, B } = fx;
    const steps = (action: object) => [{ type: 'action', name: 'step', action }];
    const create = (payload: object) =>
      asLimited({
        method: 'POST',
        url: '/v1/conversations',
        ...json({ name: `fields ${Math.random()}`, trigger: { event: 'x' }, ...payload }),
      });
    // A's pool, but the code saved into B's coupon field; or B's field overwritten by setField.
    const intoB = await create({
      steps: steps({ type: 'assignCoupon', merchantId: A.merchantId, poolId: A.poolId, saveCodeTo: B.codeFieldId }),
    });
    expect(intoB.statusCode, intoB.body).toBe(403);
    expect((await create({ steps: steps({ type: 'setField', field: B.codeFieldId, value: 'x' }) })).statusCode).toBe(403);
    expect((await create({ steps: steps({ type: 'setField', field: A.codeFieldId, value: 'x' }) })).statusCode).toBe(201);

    // A message that shows B's code may not be committed by the limited token: nothing changes.
    const message = (
      await fx.full({
        method: 'POST',
        url: '/v1/messages',
        ...json(messageBody(`<p>{{ ${B.groupName}.Code }}</p>`, `shows B ${Math.random()}`)),
      })
    ).json();
    const own = await create({ steps: [{ type: 'message', name: 'Mail', messageId: message.id }] });
    expect(own.statusCode, own.body).toBe(201);
    const commit = await asLimited({ method: 'POST', url: `/v1/conversations/${own.json().id}/steps/${own.json().steps[0].id}/commit` });
    expect(commit.statusCode, commit.body).toBe(403);
    const after = await asLimited({ method: 'GET', url: `/v1/conversations/${own.json().id}` });
    expect(after.statusCode).toBe(200);
    expect(after.json().steps[0].committed).toBeNull();
    expect((await asLimited({ method: 'GET', url: '/v1/conversations?limit=500' })).body).toContain(own.json().id);

    // Committed by the unlimited token, the conversation uses B: hidden from the limited token.
    expect(
      (await fx.full({ method: 'POST', url: `/v1/conversations/${own.json().id}/steps/${own.json().steps[0].id}/commit` })).statusCode,
    ).toBe(200);
    expect((await asLimited({ method: 'GET', url: `/v1/conversations/${own.json().id}` })).statusCode).toBe(403);
    expect((await asLimited({ method: 'GET', url: '/v1/conversations?limit=500' })).body).not.toContain(own.json().id);
  });

  it("keeps B's codes away from the limited token: no assignment, no mail, no field value", async () => {
    const { B } = fx;
    const seen = [
      await asLimited({ method: 'GET', url: '/v1/outbox?limit=500' }),
      await asLimited({ method: 'GET', url: `/v1/contacts/${B.contact.id}` }),
      await asLimited({ method: 'GET', url: '/v1/contacts?limit=500' }),
      await asLimited({ method: 'POST', url: `/v1/messages/${B.messageId}/preview`, ...json({ contactId: B.contact.id }) }),
    ];
    for (const res of seen) {
      expect(res.statusCode, res.body).toBe(200);
      expect(res.body).not.toMatch(/BCODE/);
    }
    // The contact itself is the account's: it is there, without B's field.
    const contact = seen[1]!.json();
    expect(contact).toMatchObject({ id: B.contact.id, email: B.contact.email, runs: [] });
    expect(contact.fields[B.groupName]?.Code).toBeUndefined();
    // The unlimited token sees it all.
    const whole = (await fx.full({ method: 'GET', url: `/v1/contacts/${B.contact.id}` })).json();
    expect(whole.fields[B.groupName].Code).toBe(B.contact.code);
    expect(whole.runs.map((r: { conversationId: string }) => r.conversationId)).toEqual([B.conversation.id]);
  });
  it("shows the limited token the test sends of its own messages, not those of a message that reads B's fields", async () => {
    const { A, B } = fx;
    const mailIds = async (res: { statusCode: number; body: string; json(): { mailIds: string[] } }) => {
      expect(res.statusCode, res.body).toBe(202);
      return res.json().mailIds;
    };
    const own = await mailIds(
      await asLimited({ method: 'POST', url: `/v1/messages/${A.messageId}/test`, ...json({ to: ['tester-a@example.com'] }) }),
    );
    const byFull = await mailIds(
      await fx.full({
        method: 'POST',
        url: `/v1/messages/${A.messageId}/test`,
        ...json({ to: ['tester-a2@example.com'], contactId: A.contact.id }),
      }),
    );
    const ofB = await mailIds(
      await asLimited({ method: 'POST', url: `/v1/messages/${B.messageId}/test`, ...json({ to: ['tester-b@example.com'] }) }),
    );
    const ofBFull = await mailIds(
      await fx.full({
        method: 'POST',
        url: `/v1/messages/${B.messageId}/test`,
        ...json({ to: ['tester-b2@example.com'], contactId: B.contact.id }),
      }),
    );
    for (const id of [...own, ...byFull]) {
      const res = await asLimited({ method: 'GET', url: `/v1/outbox/${id}` });
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json()).toMatchObject({ kind: 'test', subject: expect.stringMatching(/^\[Test\] /) });
    }
    // The full token's test of A's message for A's contact shows A's code, and the limited token reads it.
    expect((await asLimited({ method: 'GET', url: `/v1/outbox/${byFull[0]}` })).json().html).toContain(A.contact.code);
    for (const id of [...ofB, ...ofBFull]) {
      expect((await asLimited({ method: 'GET', url: `/v1/outbox/${id}` })).statusCode).toBe(404);
      expect((await fx.full({ method: 'GET', url: `/v1/outbox/${id}` })).statusCode).toBe(200);
    }
    const listed = (await asLimited({ method: 'GET', url: '/v1/outbox?kind=test&limit=500' }))
      .json()
      .items.map((m: { id: string }) => m.id);
    expect(listed).toEqual(expect.arrayContaining([...own, ...byFull]));
    for (const id of [...ofB, ...ofBFull]) expect(listed).not.toContain(id);
    expect((await asLimited({ method: 'GET', url: '/v1/outbox?limit=500' })).body).not.toMatch(/BCODE/);
  });
});
