import { expect } from 'vitest';
import type { testApp, TestTenant } from '../helpers/app.ts';
import { multipart } from '../helpers/multipart.ts';

type App = Awaited<ReturnType<typeof testApp>>;

/** An action step assigning a code from `poolId` into the coupon field `codeField`, for the merchant given. */
export const assignStep = (
  merchantId: string,
  poolId: string,
  codeField: string,
  name = 'Assign',
  whenNoCode: 'exit' | 'continue' = 'exit',
) => ({
  type: 'action',
  name,
  action: { type: 'assignCoupon', merchantId, poolId, saveCodeTo: codeField, whenNoCode },
});

/** The API calls the conductor suites share; every call checks its status. */
export function api(app: App, t: TestTenant) {
  async function call(method: 'GET' | 'POST' | 'PUT' | 'PATCH', url: string, payload?: unknown, status?: number) {
    const res = await app.http.inject({ method, url, headers: t.auth, ...(payload !== undefined ? { payload: payload as object } : {}) });
    if (status !== undefined) expect(res.statusCode, `${method} ${url}: ${res.body}`).toBe(status);
    return res.json();
  }
  let n = 0;
  const unique = (prefix: string) => `${prefix} ${++n}-${Math.random().toString(36).slice(2, 6)}`;

  return {
    call,
    async pool(settings: object = {}) {
      return call('POST', `/v1/merchants/${t.merchantId}/pools`, { name: unique('pool'), type: 'unique', ...settings }, 201);
    },
    async upload(poolId: string, content: string, fields: Record<string, string> = { expiration: 'file' }) {
      const body = multipart(fields, { content });
      const res = await app.http.inject({
        method: 'POST',
        url: `/v1/pools/${poolId}/uploads`,
        headers: { ...t.auth, ...body.headers },
        payload: body.payload,
      });
      expect(res.statusCode, res.body).toBe(201);
      return res.json();
    },
    /** A group with a text field for the code and a date field for its expiration. */
    async couponFields() {
      const group = await call('POST', '/v1/field-groups', { name: unique('Shopper').replace(/[ -]/g, '') }, 201);
      const code = await call('POST', `/v1/field-groups/${group.id}/fields`, { name: 'SCA10Off', type: 'text' }, 201);
      const expiration = await call('POST', `/v1/field-groups/${group.id}/fields`, { name: 'SCA10Off Expiration', type: 'date' }, 201);
      return { group, code, expiration };
    },
    async message(html: string, subject = 'Your 10% off') {
      return call(
        'POST',
        '/v1/messages',
        { name: unique('message'), fromName: 'Shop', fromEmail: 'shop@example.com', subject, html, text: null },
        201,
      );
    },
    async conversation(body: object) {
      return call('POST', '/v1/conversations', { name: unique('conversation'), ...body }, 201);
    },
    /** Commits every message step of the tree (branches included). */
    async commit(conversation: { id: string; steps: { id: string; type: string }[] }) {
      let latest = conversation;
      type Tree = { id: string; type: string; branches?: { steps: Tree[] }[]; otherwise?: { steps: Tree[] } };
      type Waits = { received?: { steps: Tree[] }; timedOut?: { steps: Tree[] } };
      const all = (steps: Tree[]): Tree[] =>
        steps.flatMap((s) => [
          s,
          ...all([...(s.branches ?? []), s.otherwise, (s as Waits).received, (s as Waits).timedOut].flatMap((b) => b?.steps ?? [])),
        ]);
      for (const step of all(conversation.steps).filter((s) => s.type === 'message')) {
        latest = await call('POST', `/v1/conversations/${conversation.id}/steps/${step.id}/commit`, undefined, 200);
      }
      return latest;
    },
    async publish(conversationId: string) {
      return call('POST', `/v1/conversations/${conversationId}/publish`, undefined, 200);
    },
    async event(type: string, email: string, extra: object = {}) {
      return call('POST', '/v1/events', { type, email, ...extra }, 202);
    },
    async mailsTo(email: string) {
      const page = await call('GET', `/v1/outbox?to=${encodeURIComponent(email)}&kind=message`, undefined, 200);
      return page.items as { subject: string; html: string; text: string | null; to: string; id: string }[];
    },
    async enrollments(conversationId: string) {
      return (await call('GET', `/v1/conversations/${conversationId}/enrollments?limit=500`, undefined, 200)).items;
    },
  };
}
