import { afterAll, beforeAll, expect, it } from 'vitest';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// mailauth: a real DKIM verifier; only its DNS lookup is given the TXT record the test publishes.
import { dkimVerify } from 'mailauth/lib/dkim/verify.js';
import { describeEachEngine } from '../helpers/engines.ts';
import { newTenant, testApp, type TestTenant } from '../helpers/app.ts';
import { smtpTransport } from '../../src/platform/mail/transport.ts';
import type { NewMail } from '../../src/modules/outbox/model.ts';
import { startSmtp } from './smtp-server.ts';

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const privatePem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const publicDer = publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
const record = `v=DKIM1; k=rsa; p=${publicDer}`;
const resolver = async (name: string, type: string) => {
  if (type === 'TXT' && name === 'mail2026._domainkey.shop.example.com') return [[record]];
  throw Object.assign(new Error(`no ${type} record for ${name}`), { code: 'ENOTFOUND' });
};

describeEachEngine('DKIM and pooled SMTP', (ctx) => {
  let smtp: Awaited<ReturnType<typeof startSmtp>>;
  let t: TestTenant;
  let setup: Awaited<ReturnType<typeof testApp>>;
  beforeAll(async () => {
    smtp = await startSmtp();
    setup = await testApp(ctx.database);
    t = await newTenant(setup);
  });
  afterAll(async () => {
    await setup.http.close();
    await smtp.close();
  });
  const mail = (to: string): NewMail => ({
    accountId: t.accountId,
    merchantId: t.merchantId,
    kind: 'message',
    to,
    from: { name: 'Shop', email: 'hello@shop.example.com' },
    subject: 'Signed',
    html: '<p>Code <b>ABC</b></p>',
    text: 'Code ABC',
    headers: { 'List-Unsubscribe': '<https://coupons.example.com/u/x.y>', 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' },
  });

  it('every mail is DKIM-signed (key inline or from a file) and verifies against the published key; a wrong key fails', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dkim-'));
    writeFileSync(join(dir, 'key.pem'), privatePem);
    for (const key of [privatePem, join(dir, 'key.pem')]) {
      const app = await testApp(ctx.database, {
        config: { PUBLIC_URL: 'https://coupons.example.com' },
        transport: smtpTransport(smtp.url, { pool: 2, dkim: { domain: 'shop.example.com', selector: 'mail2026', privateKey: key } }),
      });
      const ids = await ctx.database.db
        .transaction()
        .execute((tx) => app.services.outbox.enqueue(tx, [mail(`dkim-${sentCount++}@example.com`)]));
      expect(await app.services.outbox.deliverDue()).toMatchObject({ sent: 1 });
      app.services.outbox.close();
      await app.http.close();
      const raw = smtp.received.at(-1)!.raw;
      expect(raw).toMatch(/^DKIM-Signature: .*d=shop\.example\.com/m);
      expect(raw).toContain(`Message-ID: <${ids[0]}@coupons.example.com>`);
      const verified = await dkimVerify(Buffer.from(raw), { resolver });
      expect(verified.results.map((r: { status: { result: string } }) => r.status.result)).toEqual(['pass']);
      // Altered in transit: the same check fails.
      const tampered = raw.replace('Code ABC', 'Code XYZ');
      const broken = await dkimVerify(Buffer.from(tampered), { resolver });
      expect(broken.results.map((r: { status: { result: string } }) => r.status.result)).not.toContain('pass');
    }
  });

  it('a pooled transport delivers many mails once each, Message-IDs unchanged', async () => {
    const app = await testApp(ctx.database, {
      config: { PUBLIC_URL: 'https://coupons.example.com' },
      transport: smtpTransport(smtp.url, { pool: 4 }),
    });
    const before = smtp.received.length;
    const ids = await ctx.database.db.transaction().execute((tx) =>
      app.services.outbox.enqueue(
        tx,
        Array.from({ length: 40 }, (_, i) => mail(`pool${i}@example.com`)),
      ),
    );
    expect(await app.services.outbox.deliverDue(10)).toMatchObject({ sent: 40, failed: 0 });
    app.services.outbox.close();
    await app.http.close();
    const got = smtp.received.slice(before).map((r) => /^Message-ID: (.+)$/im.exec(r.raw)![1]!.trim());
    expect(got.sort()).toEqual(ids.map((id) => `<${id}@coupons.example.com>`).sort());
    expect(smtp.received.slice(before).every((r) => r.raw.includes('List-Unsubscribe-Post: List-Unsubscribe=One-Click'))).toBe(true);
  });
});
let sentCount = 0;
