import { expect } from 'vitest';
import { multipart } from '../helpers/multipart.ts';
import type { testApp, TestTenant } from '../helpers/app.ts';

type TestApp = Awaited<ReturnType<typeof testApp>>;

/** Small helpers over the real HTTP API, shared by the redemption suites. */
export function redemptionApi(app: TestApp, t: TestTenant) {
  const call = (method: 'GET' | 'POST' | 'PUT' | 'PATCH', url: string, payload?: object, auth = t.auth) =>
    app.http.inject({ method, url, headers: auth, ...(payload ? { payload } : {}) });

  async function pool(settings: object, merchantId = t.merchantId): Promise<string> {
    const res = await call('POST', `/v1/merchants/${merchantId}/pools`, { name: `p-${Math.random().toString(36).slice(2)}`, ...settings });
    expect(res.statusCode, res.body).toBe(201);
    return res.json().id;
  }

  async function upload(poolId: string, lines: string[], expiration: 'none' | 'file' = 'none') {
    const body = multipart({ expiration }, { content: lines.join('\n') });
    const res = await app.http.inject({
      method: 'POST',
      url: `/v1/pools/${poolId}/uploads`,
      headers: { ...t.auth, ...body.headers },
      payload: body.payload,
    });
    expect(res.statusCode, res.body).toBe(201);
    return res.json();
  }

  async function assign(poolId: string, email: string, key = email) {
    const res = await call('POST', `/v1/pools/${poolId}/assignments`, { email, idempotencyKey: key });
    expect(res.statusCode, res.body).toBe(201);
    return res.json() as { id: string; code: string; expiresAt: string | null; source: string };
  }

  const validate = (body: object, merchantId = t.merchantId) => call('POST', `/v1/merchants/${merchantId}/codes/validate`, body);
  const redeem = (body: object, merchantId = t.merchantId) => call('POST', `/v1/merchants/${merchantId}/redemptions`, body);
  const rollback = (id: string) => call('POST', `/v1/redemptions/${id}/rollback`);
  return { call, pool, upload, assign, validate, redeem, rollback };
}
