import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachEngine } from '../helpers/engines.ts';
import { newTenant, testApp, type TestTenant } from '../helpers/app.ts';
import { multipart } from '../helpers/multipart.ts';
import { api } from '../conductor/setup.ts';

type Mail = { id: string; html: string; text: string | null; headers: Record<string, string>; subject: string };

/** Unsubscribe links and headers, the public page, one-click, and the suppression list. */
describeEachEngine('unsubscribe and suppression', (ctx) => {
  let app: Awaited<ReturnType<typeof testApp>>;
  let t: TestTenant;
  beforeAll(async () => {
    app = await testApp(ctx.database, { config: { PUBLIC_URL: 'https://coupons.example.com' } });
    t = await newTenant(app, `Acme ${Math.random().toString(36).slice(2, 6)}`);
  });
  afterAll(() => app.http.close());

  /** A live conversation that mails `html`/`text` on `trigger`, after a delay of an hour. */
  async function mailing(trigger: string, html: string, text: string | null) {
    const a = api(app, t);
    const message = await a.call(
      'POST',
      '/v1/messages',
      { name: `m ${Math.random()}`, fromName: 'Shop', fromEmail: 'shop@example.com', subject: 'Hello', html, text },
      201,
    );
    const draft = await a.conversation({
      trigger: { event: trigger },
      steps: [
        { type: 'delay', name: 'Wait', duration: 'PT1H' },
        { type: 'message', name: 'Mail', messageId: message.id },
      ],
    });
    await a.commit(draft);
    await a.publish(draft.id);
    return draft;
  }
  const mailsTo = async (email: string): Promise<Mail[]> =>
    (await api(app, t).call('GET', `/v1/outbox?to=${encodeURIComponent(email)}`, undefined, 200)).items;
  const linkIn = (text: string) => /https:\/\/coupons\.example\.com\/u\/[A-Za-z0-9_.-]+/.exec(text)?.[0];

  it('every marketing mail carries both headers and a signed link in HTML and text (footer when the template has none)', async () => {
    const a = api(app, t);
    const placed = await mailing(
      'placed',
      '<html><body><p>Hi</p><a href="{{ unsubscribe_url }}">Stop</a></body></html>',
      'Hi. Stop: {{ unsubscribe_url }}',
    );
    const footer = await mailing('footer', '<html><body><p>Hi {{ contact.email }}</p></body></html>', 'Hi {{ contact.email }}');
    void placed;
    void footer;
    const alice = await a.event('placed', 'alice@example.com');
    await a.event('footer', 'bob@example.com');
    app.clock.advance(3_600_000);
    await app.services.engine.runDue();

    const [aliceMail] = await mailsTo('alice@example.com');
    const [bobMail] = await mailsTo('bob@example.com');
    for (const mail of [aliceMail!, bobMail!]) {
      const url = linkIn(mail.html)!;
      expect(url).toBeDefined();
      expect(mail.text).toContain(url);
      expect(mail.headers).toEqual({ 'List-Unsubscribe': `<${url}>`, 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' });
    }
    // The template's own link is not doubled by a footer; the other gets the footer before </body>.
    expect(aliceMail!.html.match(/\/u\//g)).toHaveLength(1);
    expect(aliceMail!.text).toMatch(/^Hi\. Stop: https:/);
    expect(bobMail!.html).toMatch(/<p>Hi bob@example.com<\/p><p[^>]*>.*Unsubscribe<\/a>.*<\/p><\/body><\/html>$/);
    expect(bobMail!.text).toMatch(/^Hi bob@example.com\n\n--\nUnsubscribe: https:/);
    // Links are per contact.
    expect(linkIn(aliceMail!.html)).not.toBe(linkIn(bobMail!.html));
    expect(alice.contactId).toBeTruthy();
  });

  it('GET shows the page with the account name; a tampered token is refused and changes nothing; POST one-click unsubscribes, ends runs, suppresses', async () => {
    const a = api(app, t);
    const draft = await mailing('one-click', '<p>Hi</p>', 'Hi');
    // A second conversation whose run is still waiting: unsubscribing ends it.
    const waiting = await mailing('waiting', '<p>Later</p>', null);
    const carol = await a.event('one-click', 'carol@example.com');
    await a.event('waiting', 'carol@example.com');
    app.clock.advance(1_800_000);
    await app.services.engine.runDue();
    void draft;
    // No mail yet (the delay): take the link from a mail of the first conversation after its hour.
    app.clock.advance(1_800_000);
    const waitingOnly = await a.call('POST', '/v1/events', { type: 'waiting', email: 'dave@example.com' }, 202);
    void waitingOnly;
    // Carol's two runs are due now; send only the first by ending... simply run: both mail.
    await app.services.engine.runDue();
    const mails = await mailsTo('carol@example.com');
    expect(mails).toHaveLength(2);
    const url = linkIn(mails[0]!.html)!;
    const path = new URL(url).pathname;

    const page = await app.http.inject({ method: 'GET', url: path });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toContain('text/html');
    expect(page.body).toContain(t.accountId ? 'Acme' : '');
    expect(page.body).toContain('<form method="post"');
    expect(page.body).toContain('carol@example.com');

    // Tampered: one character of the signature, or another contact's id under the same signature.
    const [contact, sig] = path.slice(3).split('.');
    expect(contact).toBe(carol.contactId);
    const flipped = sig!.slice(0, -2) + (sig!.at(-2) === 'A' ? 'B' : 'A') + sig!.at(-1);
    // Dave's contact under Carol's signature.
    const dave = (await a.call('GET', '/v1/contacts?email=dave@example.com', undefined, 200)).id as string;
    for (const forged of [`/u/${contact}.${flipped}`, `/u/${dave}.${sig}`, '/u/garbage', `/u/${contact}`, `/u/${contact}.${sig}x`]) {
      for (const method of ['GET', 'POST'] as const) {
        const res = await app.http.inject({
          method,
          url: forged,
          payload: 'List-Unsubscribe=One-Click',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
        });
        expect(res.statusCode, `${method} ${forged}`).toBeGreaterThanOrEqual(400);
        expect(res.statusCode).toBeLessThan(500);
      }
    }
    const still = await a.call('GET', `/v1/contacts/${carol.contactId}`, undefined, 200);
    expect(still.status).toBe('subscribed');
    expect((await a.call('GET', '/v1/suppressions?search=carol', undefined, 200)).items).toEqual([]);

    // RFC 8058 one-click: a form POST with List-Unsubscribe=One-Click, no cookie, no token.
    const res = await app.http.inject({
      method: 'POST',
      url: path,
      payload: 'List-Unsubscribe=One-Click',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('You are unsubscribed');
    const after = await a.call('GET', `/v1/contacts/${carol.contactId}`, undefined, 200);
    expect(after.status).toBe('unsubscribed');
    const suppressed = (await a.call('GET', '/v1/suppressions?search=carol', undefined, 200)).items;
    expect(suppressed).toEqual([expect.objectContaining({ email: 'carol@example.com', reason: 'unsubscribed' })]);
    // Again: same answer, nothing more changes. The page now says so.
    expect((await app.http.inject({ method: 'POST', url: path })).statusCode).toBe(200);
    expect((await app.http.inject({ method: 'GET', url: path })).body).toContain('You are unsubscribed');
    void waiting;
  });

  it("unsubscribing ends the contact's active runs with reason unsubscribed", async () => {
    const a = api(app, t);
    const first = await mailing('first-mail', '<p>One</p>', null);
    const later = await api(app, t).conversation({
      trigger: { event: 'first-mail' },
      steps: [{ type: 'delay', name: 'Wait a day', duration: 'P1D' }],
    });
    await a.publish(later.id);
    const erin = await a.event('first-mail', 'erin@example.com');
    app.clock.advance(3_600_000);
    await app.services.engine.runDue();
    const [mail] = await mailsTo('erin@example.com');
    const path = new URL(linkIn(mail!.html)!).pathname;
    expect((await app.http.inject({ method: 'POST', url: path })).statusCode).toBe(200);
    const runs = await a.enrollments(later.id);
    expect(runs.find((r: { contactId: string }) => r.contactId === erin.contactId)).toMatchObject({
      status: 'exited',
      exitReason: 'unsubscribed',
    });
    void first;
  });

  it('a suppressed address gets no marketing mail: its run ends suppressed; lifting it lets mail through', async () => {
    const a = api(app, t);
    const draft = await mailing('suppressed', '<p>Hi</p>', null);
    expect(await a.call('POST', '/v1/suppressions', { email: 'Frank@Example.com', reason: 'complained' }, 201)).toMatchObject({
      email: 'frank@example.com',
      reason: 'complained',
    });
    const frank = await a.event('suppressed', 'frank@example.com');
    await a.event('suppressed', 'grace@example.com');
    app.clock.advance(3_600_000);
    await app.services.engine.runDue();
    expect(await mailsTo('frank@example.com')).toEqual([]);
    expect(await mailsTo('grace@example.com')).toHaveLength(1);
    const run = (await a.enrollments(draft.id)).find((r: { contactId: string }) => r.contactId === frank.contactId);
    expect(run).toMatchObject({ status: 'exited', exitReason: 'suppressed' });
    // The contact itself is unchanged (a suppression is about the address, not the contact).
    expect((await a.call('GET', `/v1/contacts/${frank.contactId}`, undefined, 200)).status).toBe('subscribed');

    expect((await app.http.inject({ method: 'DELETE', url: '/v1/suppressions/FRANK@example.com', headers: t.auth })).statusCode).toBe(204);
    expect((await app.http.inject({ method: 'DELETE', url: '/v1/suppressions/frank@example.com', headers: t.auth })).statusCode).toBe(404);
    await mailing('lifted', '<p>Again</p>', null);
    await a.event('lifted', 'frank@example.com');
    app.clock.advance(3_600_000);
    await app.services.engine.runDue();
    expect(await mailsTo('frank@example.com')).toHaveLength(1);
  });

  it('suppressions: add, list with search and reason, import a CSV, refuse bad input', async () => {
    const a = api(app, t);
    expect(
      (await app.http.inject({ method: 'POST', url: '/v1/suppressions', headers: t.auth, payload: { email: 'not-an-email' } })).statusCode,
    ).toBe(422);
    expect(
      (
        await app.http.inject({
          method: 'POST',
          url: '/v1/suppressions',
          headers: t.auth,
          payload: { email: 'x@example.com', reason: 'whatever' },
        })
      ).statusCode,
    ).toBe(422);
    const body = multipart(
      {},
      {
        content: 'email,reason\nimp1@example.com,bounced\nIMP2@example.com\n"imp3@example.com",complained\nbroken\nimp4@example.com,nope\n',
      },
    );
    const res = await app.http.inject({
      method: 'POST',
      url: '/v1/suppressions/import',
      headers: { ...t.auth, ...body.headers },
      payload: body.payload,
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ lines: 5, suppressed: 3, rejected: 2 });
    expect(res.json().errors.map((e: { line: number }) => e.line)).toEqual([5, 6]);
    const listed = (await a.call('GET', '/v1/suppressions?search=imp', undefined, 200)).items;
    expect(listed.map((s: { email: string; reason: string }) => `${s.email}:${s.reason}`)).toEqual([
      'imp1@example.com:bounced',
      'imp2@example.com:manual',
      'imp3@example.com:complained',
    ]);
    const bounced = (await a.call('GET', '/v1/suppressions?search=imp&reason=bounced', undefined, 200)).items;
    expect(bounced).toHaveLength(1);
    // Another account sees none of them.
    const other = await newTenant(app);
    expect((await app.http.inject({ method: 'GET', url: '/v1/suppressions?search=imp', headers: other.auth })).json().items).toEqual([]);
  });

  it('templates may use {{ unsubscribe_url }}; a preview renders it empty', async () => {
    const a = api(app, t);
    const m = await a.call(
      'POST',
      '/v1/messages',
      {
        name: `m ${Math.random()}`,
        fromName: 'Shop',
        fromEmail: 'shop@example.com',
        subject: 'Hi',
        html: '<a href="{{ unsubscribe_url }}">x</a>',
        text: null,
      },
      201,
    );
    await a.call('PUT', '/v1/contacts', { email: 'preview@example.com' }, 200);
    const preview = await a.call('POST', `/v1/messages/${m.id}/preview`, { email: 'preview@example.com' }, 200);
    expect(preview.html).toBe('<a href="">x</a>');
  });
});
