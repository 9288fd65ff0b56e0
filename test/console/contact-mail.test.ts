import { describe, expect, it } from 'vitest';
import { startSmtp } from '../mail/smtp-server.ts';
import { systemClock } from '../../src/platform/clock.ts';
import { outboxService } from '../../src/modules/outbox/service.ts';
import { smtpTransport } from '../../src/platform/mail/transport.ts';
import { useConsole } from './fixture.ts';

/**
 * The contact page (issue 11.4, 15.6, 13.5), the contacts import, the outbox's SMTP reply and
 * headers, the suppression screen and the test-send button, in a real browser against a real server.
 */
describe('console: contact page, imports, outbox, suppressions, test sends', () => {
  let contactId: string;
  let conversationId: string;
  let messageId: string;
  let mailId: string;
  let code: string;

  const { server, page, t, call } = useConsole({
    account: 'Contact Co',
    async seed({ call, t, server, pool: newPool, upload, message }) {
      const pool = await newPool('Welcome codes');
      await upload(pool.id, ['WELCOME-1', 'WELCOME-2', 'WELCOME-3'], { expiration: 'fixed', expiresOn: '2026-12-31', onInvalid: 'reject' });
      const group = await call('POST', '/v1/field-groups', { name: 'Offer' }, 201);
      const codeField = await call('POST', `/v1/field-groups/${group.id}/fields`, { name: 'Code', type: 'text' }, 201);
      const until = await call('POST', `/v1/field-groups/${group.id}/fields`, { name: 'Until', type: 'date' }, 201);
      await call('POST', `/v1/field-groups/${group.id}/fields`, { name: 'Nickname', type: 'text' }, 201);
      messageId = (await message('Welcome mail', 'Your code', `<p>Code ${codeField.snippet}</p>`)).id;
      const conversation = await call(
        'POST',
        '/v1/conversations',
        {
          name: 'Welcome journey',
          trigger: { event: 'signed_up' },
          exitEvents: [],
          reentry: 'never',
          steps: [
            {
              type: 'action',
              name: 'Give a code',
              action: {
                type: 'assignCoupon',
                merchantId: t.merchantId,
                poolId: pool.id,
                saveCodeTo: codeField.id,
                saveExpirationTo: until.id,
                whenNoCode: 'exit',
              },
            },
            { type: 'message', name: 'Send the code', messageId },
          ],
        },
        201,
      );
      conversationId = conversation.id;
      const mailStep = conversation.steps.find((s: { type: string }) => s.type === 'message');
      await call('POST', `/v1/conversations/${conversationId}/steps/${mailStep.id}/commit`, undefined, 200);
      await call('POST', `/v1/conversations/${conversationId}/publish`, undefined, 200);
      const event = await call('POST', '/v1/events', { type: 'signed_up', email: 'robin@example.com' }, 202);
      contactId = event.contactId;
      await server.app.services.engine.runDue();
      const contact = await call('GET', `/v1/contacts/${contactId}`, undefined, 200);
      code = contact.fields.Offer.Code;
      expect(code).toMatch(/^WELCOME-/);
      mailId = (await call('GET', '/v1/outbox?to=robin@example.com', undefined, 200)).items[0].id;
    },
    pageTimeout: 20_000,
    signIn: { at: () => `#/contacts/${contactId}`, ready: (page) => page.getByRole('heading', { name: 'robin@example.com' }) },
  });

  it('shows conversation and step names with links to the conversation and the mail, dates as dates, each code with its status', async () => {
    await page.goto(`${server.url}/#/contacts/${contactId}`);
    const journeys = page.getByRole('table', { name: 'Journeys' });
    const link = journeys.getByRole('link', { name: 'Welcome journey' });
    await link.waitFor();
    expect(await link.getAttribute('href')).toBe(`#/conversations/${conversationId}`);
    await expect.poll(() => journeys.textContent()).toMatch(/Give a code.*Send the code/s);
    expect(await journeys.textContent()).not.toContain(conversationId);
    expect(await page.getByTestId('value-Offer-Until').textContent()).toBe('Dec 31, 2026');
    const codes = page.getByRole('table', { name: 'Codes' });
    await expect.poll(() => codes.textContent()).toMatch(new RegExp(`${code}.*Dec 31, 2026.*assigned`));
    // The mail link opens that mail in the outbox; the conversation link opens the editor.
    await journeys.getByRole('link', { name: 'the mail' }).click();
    await page.waitForURL(`**/#/outbox/${mailId}`);
    await page.getByRole('article', { name: 'Mail' }).getByRole('heading', { name: 'Your code' }).waitFor();
    await page.goBack();
    await page.getByRole('table', { name: 'Journeys' }).getByRole('link', { name: 'Welcome journey' }).click();
    await page.waitForURL(`**/#/conversations/${conversationId}`);
    await page.getByRole('textbox', { name: /name/i }).first().waitFor();
  }, 60_000);

  it('edits a field value in place', async () => {
    await page.goto(`${server.url}/#/contacts/${contactId}`);
    await page.getByRole('button', { name: 'Edit Offer Nickname' }).click();
    await page.getByLabel('Offer Nickname').fill('Robin Hood');
    await page.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => page.getByTestId('value-Offer-Nickname').textContent()).toBe('Robin Hood');
    expect((await call('GET', `/v1/contacts/${contactId}`, undefined, 200)).fields.Offer.Nickname).toBe('Robin Hood');
    // A date field edits as a date; Cancel leaves the value as it was.
    await page.getByRole('button', { name: 'Edit Offer Until' }).click();
    expect(await page.getByLabel('Offer Until').getAttribute('type')).toBe('date');
    expect(await page.getByLabel('Offer Until').inputValue()).toBe('2026-12-31');
    await page.getByRole('button', { name: 'Cancel' }).click();
    expect(await page.getByTestId('value-Offer-Until').textContent()).toBe('Dec 31, 2026');
  }, 60_000);

  it('unsubscribes (suppressed as unsubscribed) and resubscribes (the suppression lifted)', async () => {
    await page.goto(`${server.url}/#/contacts/${contactId}`);
    const panel = page.getByRole('region', { name: 'Subscription' }).or(page.locator('[aria-label="Subscription"]'));
    await panel.getByText(/Not suppressed/).waitFor();
    await page.getByRole('button', { name: 'Unsubscribe' }).click();
    await panel.getByText('suppressed: unsubscribed').waitFor();
    expect((await call('GET', `/v1/contacts/${contactId}`, undefined, 200)).status).toBe('unsubscribed');
    expect((await call('GET', '/v1/suppressions?search=robin', undefined, 200)).items).toMatchObject([
      { email: 'robin@example.com', reason: 'unsubscribed' },
    ]);
    await page.getByRole('button', { name: 'Resubscribe' }).click();
    await panel.getByText(/Not suppressed/).waitFor();
    await page.getByRole('button', { name: 'Unsubscribe' }).waitFor();
    expect((await call('GET', `/v1/contacts/${contactId}`, undefined, 200)).status).toBe('subscribed');
    expect((await call('GET', '/v1/suppressions?search=robin', undefined, 200)).items).toEqual([]);
  }, 60_000);

  it('imports a contacts CSV and shows the report', async () => {
    await page.goto(`${server.url}/#/contacts`);
    await page.getByRole('link', { name: 'Import a CSV' }).click();
    await page.getByRole('heading', { name: 'Import contacts' }).waitFor();
    const csv = 'email,Offer.Nickname\nann@example.com,Ann\nnot-an-email,Bad\nrobin@example.com,Rob\n';
    await page.getByLabel('CSV file').setInputFiles({ name: 'contacts.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
    await page.getByLabel('Invalid lines').selectOption('skip');
    await page.getByRole('button', { name: 'Import' }).click();
    const report = page.getByRole('status', { name: 'Import report' });
    await report.waitFor();
    const text = (await report.textContent())!;
    expect(text).toMatch(/Lines read\s*4/); // the header line counts, as in an upload's report
    expect(text).toMatch(/Imported\s*2/);
    expect(text).toMatch(/New contacts\s*1/);
    expect(text).toMatch(/Updated contacts\s*1/);
    expect(text).toMatch(/Invalid\s*1/);
    expect(await report.getByRole('table', { name: 'Invalid lines' }).locator('tbody tr').count()).toBe(1);
    expect((await call('GET', '/v1/contacts?email=ann@example.com', undefined, 200)).fields.Offer.Nickname).toBe('Ann');
  }, 60_000);

  it('shows the SMTP reply and the headers of a mail in the outbox', async () => {
    // A sender with a real SMTP server, beside the app (whose transport keeps mail).
    const smtp = await startSmtp();
    const sender = outboxService({
      database: server.database.database,
      clock: systemClock,
      transport: smtpTransport(smtp.url),
      retry: { maxAttempts: 3, baseDelayMs: 1000, maxDelayMs: 1000 },
      messageIdDomain: 'shop.example.com',
    });
    try {
      const [id] = await server.database.database.db.transaction().execute((tx) =>
        sender.enqueue(tx, [
          {
            accountId: t.accountId,
            merchantId: null,
            kind: 'message',
            to: 'smtp@example.com',
            from: { name: 'Shop', email: 'shop@example.com' },
            subject: 'Over SMTP',
            html: '<p>Hi</p>',
            text: 'Hi',
            headers: { 'List-Unsubscribe': '<https://shop.example.com/u/x>', 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' },
          },
        ]),
      );
      expect(await sender.deliverDue()).toMatchObject({ sent: 1 });
      expect(smtp.received).toHaveLength(1);
      await page.goto(`${server.url}/#/outbox/${id}`);
      const mail = page.getByRole('article', { name: 'Mail' });
      await mail.getByRole('heading', { name: 'Over SMTP' }).waitFor();
      await expect.poll(() => page.getByTestId('smtp-reply').textContent()).toMatch(/^250 /);
      const headers = mail.getByRole('table', { name: 'Headers' });
      expect(await headers.textContent()).toContain('List-Unsubscribe<https://shop.example.com/u/x>');
      expect(await headers.textContent()).toContain('List-Unsubscribe-PostList-Unsubscribe=One-Click');
      expect(await headers.textContent()).toContain(`Message-ID<${id}@shop.example.com>`);
      expect(await mail.textContent()).toMatch(/sent after 1 attempt/);
    } finally {
      sender.close();
      await smtp.close();
    }
  }, 60_000);

  it('the suppression screen searches, adds and removes addresses', async () => {
    for (const email of ['bob@example.com', 'bobby@example.com', 'carol@example.com'])
      await call('POST', '/v1/suppressions', { email, reason: 'bounced' }, 201);
    await page.goto(`${server.url}/#/outbox`);
    await page.getByRole('link', { name: 'Suppressions' }).click();
    const table = page.getByRole('table', { name: 'Suppressed addresses' });
    await expect.poll(() => table.locator('tbody tr').count()).toBe(3);
    await page.getByLabel('Search addresses').fill('bob');
    await page.getByRole('button', { name: 'Search' }).click();
    await expect.poll(() => table.locator('tbody tr').count()).toBe(2);
    expect(await table.textContent()).not.toContain('carol@');
    await page.getByRole('button', { name: 'Remove bobby@example.com' }).click();
    await expect.poll(() => table.locator('tbody tr').count()).toBe(1);
    expect((await call('GET', '/v1/suppressions?search=bobby', undefined, 200)).items).toEqual([]);
    await page.getByLabel('Suppress an address').fill('dave@example.com');
    await page.getByRole('button', { name: 'Add' }).click();
    await page.getByLabel('Search addresses').fill('');
    await page.getByRole('button', { name: 'Search' }).click();
    await expect.poll(() => table.textContent()).toMatch(/dave@example\.com\s*manual/);
  }, 60_000);

  it('sends a test of a message from the authoring screen, for a contact, without assigning a code', async () => {
    const assignmentsBefore = (await call('GET', `/v1/contacts/${contactId}`, undefined, 200)).fields.Offer.Code;
    await page.goto(`${server.url}/#/messages/${messageId}`);
    const panel = page.locator('[aria-label="Test send"]');
    await panel.getByLabel('Send to').fill('qa@example.com, lead@example.com');
    await panel.getByLabel('Render for').selectOption('contact');
    await panel.getByLabel('Contact email').fill('robin@example.com');
    await panel.getByRole('button', { name: 'Send test' }).click();
    await panel
      .getByRole('status')
      .getByText(/Sent 2 test mails/)
      .waitFor();
    const tests = (await call('GET', '/v1/outbox?kind=test', undefined, 200)).items;
    expect(tests.map((m: { to: string }) => m.to).sort()).toEqual(['lead@example.com', 'qa@example.com']);
    for (const m of tests) {
      expect(m.subject).toBe('[Test] Your code');
      expect(m.html).toContain(code);
    }
    // The contact keeps its one code (no assignment for a test).
    expect((await call('GET', `/v1/contacts/${contactId}`, undefined, 200)).fields.Offer.Code).toBe(assignmentsBefore);
    // Eleven addresses are refused before anything is sent.
    await panel.getByLabel('Send to').fill(Array.from({ length: 11 }, (_, i) => `t${i}@example.com`).join(' '));
    await panel.getByText('At most 10 addresses (11 given).').waitFor();
    expect(await panel.getByRole('button', { name: 'Send test' }).isDisabled()).toBe(true);
    await panel.getByRole('status').getByRole('link', { name: 'qa@example.com' }).click();
    await page.getByRole('article', { name: 'Mail' }).getByRole('heading', { name: '[Test] Your code' }).waitFor();
  }, 60_000);
});
