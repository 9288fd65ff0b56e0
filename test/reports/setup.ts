import type { testApp, TestTenant } from '../helpers/app.ts';

type TestApp = Awaited<ReturnType<typeof testApp>>;

/** A fresh account in `timeZone` with a merchant and an admin token. */
export async function tenantIn(app: TestApp, timeZone: string): Promise<TestTenant> {
  const name = `acct-${Math.random().toString(36).slice(2, 8)}`;
  const { account, token } = await app.services.accounts.createAccountFromCli({ name, timeZone });
  const auth = { authorization: `Bearer ${token}` };
  const res = await app.http.inject({
    method: 'POST',
    url: '/v1/merchants',
    headers: auth,
    payload: { name: `${name} shop`, domain: 'shop.example.com' },
  });
  if (res.statusCode !== 201) throw new Error(`creating a merchant failed: ${res.body}`);
  return { accountId: account.id, token, merchantId: res.json().id, auth };
}
