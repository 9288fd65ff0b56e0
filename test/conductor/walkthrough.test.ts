import { expect, it } from 'vitest';
import { describeEachEngine } from '../helpers/engines.ts';
import { useTenant } from '../helpers/fixture.ts';
import { api } from './setup.ts';

/** The product walkthrough through the API: pool, upload, fields, message, conversation, events, mail. */
describeEachEngine('conductor walkthrough', (ctx) => {
  const { app, t } = useTenant(ctx);

  it('a published conversation gives each contact one code, saves it with its expiration date, and mails it', async () => {
    const a = api(app, t);
    app.clock.set('2026-03-01T12:00:00Z');
    const pool = await a.pool({ expirationCutoffDays: 0 });
    await a.upload(pool.id, 'SCA-AAAA,2026-06-30\nSCA-BBBB,2026-05-31\nSCA-CCCC,2026-07-31\n');
    const { group, code, expiration } = await a.couponFields();
    expect(code.snippet).toBe(`{{ ${group.name}.SCA10Off }}`);
    expect(expiration.snippet).toBe(`{{ ${group.name}["SCA10Off Expiration"] | date: "%m/%d/%Y" }}`);
    const message = await a.message(`<p>Hello {{ contact.email }}, your code is ${code.snippet}, valid until ${expiration.snippet}.</p>`);

    const draft = await a.conversation({
      trigger: { event: 'cart_abandoned' },
      exitEvents: ['order_placed'],
      reentry: 'afterCompletion',
      steps: [
        { type: 'delay', name: 'Wait an hour', duration: 'PT1H' },
        {
          type: 'action',
          name: 'Assign Coupon Code 10%',
          action: {
            type: 'assignCoupon',
            merchantId: t.merchantId,
            poolId: pool.id,
            saveCodeTo: code.id,
            saveExpirationTo: expiration.id,
            whenNoCode: 'exit',
          },
        },
        { type: 'message', name: 'Your 10% off', messageId: message.id },
      ],
    });
    expect(draft).toMatchObject({ status: 'draft', version: 0 });
    expect(draft.steps.map((s: { name: string }) => s.name)).toEqual(['Wait an hour', 'Assign Coupon Code 10%', 'Your 10% off']);
    expect(new Set(draft.steps.map((s: { id: string }) => s.id)).size).toBe(3);

    await a.commit(draft);
    expect(await a.publish(draft.id)).toEqual({ version: 1, warnings: [] });

    const alice = await a.event('cart_abandoned', 'alice@example.com');
    const bob = await a.event('cart_abandoned', 'bob@example.com');
    expect(alice.enrolled).toEqual([draft.id]);
    expect(bob.enrolled).toEqual([draft.id]);
    // A second trigger while the run is active starts nothing.
    expect((await a.event('cart_abandoned', 'alice@example.com')).enrolled).toEqual([]);

    // Nothing is due before the hour has passed.
    expect((await app.services.engine.runDue()).runs).toBe(0);
    expect(await a.mailsTo('alice@example.com')).toEqual([]);
    app.clock.advance(60 * 60 * 1000);
    const report = await app.services.engine.runDue();
    expect(report.runs).toBe(2);

    const [aliceMail, ...moreAlice] = await a.mailsTo('alice@example.com');
    const [bobMail] = await a.mailsTo('bob@example.com');
    expect(moreAlice).toEqual([]);
    // The soonest-expiring code first: alice's event came first.
    // The template has no {{ unsubscribe_url }}: the unsubscribe footer follows it (test/mail).
    const body = (html: string) => html.split('\n<p style="font-size:12px;color:#666">')[0];
    expect(body(aliceMail!.html)).toBe('<p>Hello alice@example.com, your code is SCA-BBBB, valid until 05/31/2026.</p>');
    expect(body(bobMail!.html)).toBe('<p>Hello bob@example.com, your code is SCA-AAAA, valid until 06/30/2026.</p>');
    expect(aliceMail!.html).toContain('/u/');
    expect(aliceMail!.subject).toBe('Your 10% off');

    // The code and its expiration are in the contact's fields, and the journey is readable.
    const contact = await a.call('GET', `/v1/contacts/${alice.contactId}`, undefined, 200);
    expect(contact.fields[group.name].SCA10Off).toBe('SCA-BBBB');
    expect(String(contact.fields[group.name]['SCA10Off Expiration'])).toMatch(/^2026-05-31/);
    expect(contact.runs).toHaveLength(1);
    expect(contact.runs[0]).toMatchObject({ conversationId: draft.id, status: 'completed' });

    const runs = await a.enrollments(draft.id);
    expect(runs).toHaveLength(2);
    const aliceRun = runs.find((r: { contactId: string }) => r.contactId === alice.contactId);
    expect(aliceRun.steps.map((s: { outcome: string }) => s.outcome)).toEqual(['waited', 'assigned', 'sent']);
    expect(aliceRun.steps[1]).toMatchObject({ stepId: draft.steps[1].id, code: 'SCA-BBBB' });
    expect(aliceRun.steps[2].messageId).toBe(aliceMail!.id);

    const counts = (await a.call('GET', `/v1/conversations/${draft.id}`, undefined, 200)).stepCounts;
    expect(counts[draft.steps[1].id]).toMatchObject({ entered: 2, completed: 2, codesAssigned: 2, defaultCodes: 0 });
    expect(counts[draft.steps[2].id]).toMatchObject({ entered: 2, completed: 2, messagesSent: 2 });
    // The pool counted the two assignments.
    expect((await a.call('GET', `/v1/pools/${pool.id}`, undefined, 200)).counts).toMatchObject({ assigned: 2, available: 1 });

    // Running again does nothing more: no second code, no second mail.
    expect((await app.services.engine.runDue()).runs).toBe(0);
    expect(await a.mailsTo('alice@example.com')).toHaveLength(1);
  });
});
