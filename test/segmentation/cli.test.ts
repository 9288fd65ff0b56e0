import { afterAll, beforeAll, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeEachEngine } from '../helpers/engines.ts';
import { newTenant, testApp, type TestTenant } from '../helpers/app.ts';
import { runCli } from '../foundation/processes.ts';

/** `couponflow contacts import FILE` as an API client against a listening test app. */
describeEachEngine('CLI contacts import', (ctx) => {
  let app: Awaited<ReturnType<typeof testApp>>;
  let t: TestTenant;
  let url: string;
  const dir = mkdtempSync(join(tmpdir(), 'couponflow-contacts-'));
  beforeAll(async () => {
    app = await testApp(ctx.database);
    t = await newTenant(app);
    url = await app.http.listen({ port: 0, host: '127.0.0.1' });
    const group = (
      await app.http.inject({ method: 'POST', url: '/v1/field-groups', headers: t.auth, payload: { name: 'Shopper' } })
    ).json();
    await app.http.inject({
      method: 'POST',
      url: `/v1/field-groups/${group.id}/fields`,
      headers: t.auth,
      payload: { name: 'Code', type: 'text' },
    });
  });
  afterAll(() => app.http.close());

  it('imports a file and prints the counts; a bad line fails with exit code 1', async () => {
    const good = join(dir, 'good.csv');
    writeFileSync(good, 'email,Shopper.Code\ncli1@example.com,X1\ncli2@example.com,X2\n');
    const ok = await runCli(['contacts', 'import', good], { COUPONFLOW_URL: url, COUPONFLOW_TOKEN: t.token });
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toContain('imported: 3 lines read, 2 imported (2 created, 0 updated), 0 invalid');

    const bad = join(dir, 'bad.csv');
    writeFileSync(bad, 'email,Shopper.Code\nnot-an-email,X\n');
    const failed = await runCli(['contacts', 'import', bad], { COUPONFLOW_URL: url, COUPONFLOW_TOKEN: t.token });
    expect(failed.code).toBe(1);
    expect(failed.stdout).toContain('line 2: "not-an-email" is not an email address');
    const skipped = await runCli(['contacts', 'import', bad, '--on-invalid', 'skip'], { COUPONFLOW_URL: url, COUPONFLOW_TOKEN: t.token });
    expect(skipped.code).toBe(0);
  }, 120_000);
});
