import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachEngine } from '../helpers/engines.ts';
import { newTenant, testApp, type TestTenant } from '../helpers/app.ts';
import { multipart } from '../helpers/multipart.ts';
import { api } from '../conductor/setup.ts';
import { runsHandedCodes } from '../helpers/redemption-sources.ts';

type App = Awaited<ReturnType<typeof testApp>>;

/**
 * The report sources (a CSV import, events naming couponCode(s)) cause what a checkout redemption
 * causes, in the same transaction: the runs handed the code end with reason `redeemed`
 * (exitOnRedemption) and a code.redeemed event is written to the webhook queue.
 */
describeEachEngine('report sources: exitOnRedemption and code.redeemed', (ctx) => {
  let app: App;
  let t: TestTenant;
  let a: ReturnType<typeof api>;
  let conversationId: string;
  let webhookId: string;
  /** Each contact's code, as its run was handed it. */
  const handed = new Map<string, string>();
  const people = ['ann@example.com', 'bob@example.com', 'cat@example.com', 'dan@example.com'];

  beforeAll(async () => {
    app = await testApp(ctx.database);
    t = await newTenant(app);
    a = api(app, t);
    webhookId = (await a.call('POST', '/v1/webhooks', { url: 'https://hooks.example.com/in', events: ['code.redeemed'] }, 201)).id;
    const { conversation, runs } = await runsHandedCodes(app, a, t.merchantId, 'RH-1\nRH-2\nRH-3\nRH-4\nRH-FREE-1\nRH-FREE-2\n', people);
    conversationId = conversation.id;
    expect(runs).toHaveLength(people.length);
    for (const run of runs) {
      expect(run.status).toBe('active');
      const contact = await a.call('GET', `/v1/contacts/${run.contactId}`, undefined, 200);
      handed.set(contact.email, run.steps[0].code);
    }
    expect(new Set(handed.values()).size).toBe(people.length);
  }, 60_000);
  afterAll(() => app.http.close());

  const statusOf = async (email: string) => {
    const runs = await a.enrollments(conversationId);
    const codes = runs.map((r: { steps: { code?: string }[] }) => r.steps[0]?.code);
    const run = runs[codes.indexOf(handed.get(email))];
    return { status: run.status, exitReason: run.exitReason };
  };
  const queued = async () =>
    (
      await sql<{ payload: { type: string; data: { code: string; source: string; orderId: string; redemptionId: string } } }>`
        select payload from webhook_queue where account_id = ${t.accountId} and type = 'code.redeemed' order by created_at, event_id`.execute(
        ctx.database.db,
      )
    ).rows.map((r) => r.payload);
  const importFile = (content: string, onInvalid: 'reject' | 'skip') => {
    const body = multipart({ onInvalid }, { content, name: 'orders.csv' });
    return app.http.inject({
      method: 'POST',
      url: `/v1/merchants/${t.merchantId}/redemptions/import`,
      headers: { ...t.auth, ...body.headers },
      payload: body.payload,
    });
  };

  it('an import rejected for a bad line ends no run and queues nothing (all in its one transaction)', async () => {
    const res = await importFile(`code,orderId\n${handed.get('ann@example.com')},o-rejected\nNO-SUCH-CODE,o-x\n`, 'reject');
    expect(res.statusCode, res.body).toBe(422);
    expect(await statusOf('ann@example.com')).toEqual({ status: 'active', exitReason: null });
    expect(await queued()).toEqual([]);
  });

  it('a CSV import ends the runs handed its codes ("redeemed") and queues code.redeemed for every recorded line, run or not', async () => {
    const ann = handed.get('ann@example.com')!;
    const bob = handed.get('bob@example.com')!;
    const free = ['RH-1', 'RH-2', 'RH-3', 'RH-4', 'RH-FREE-1', 'RH-FREE-2'].find((c) => ![...handed.values()].includes(c))!;
    const res = await importFile(
      `code,orderId,amount,currency\n${ann},o-1,5.00,EUR\n${bob},o-2,,\n${free},o-3,,\nNO-SUCH-CODE,o-4,,\n`,
      'skip',
    );
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json()).toMatchObject({ status: 'imported', recorded: 3, rejected: 1 });
    expect(await statusOf('ann@example.com')).toEqual({ status: 'exited', exitReason: 'redeemed' });
    expect(await statusOf('bob@example.com')).toEqual({ status: 'exited', exitReason: 'redeemed' });
    expect(await statusOf('cat@example.com')).toEqual({ status: 'active', exitReason: null });
    const events = await queued();
    expect(events.map((e) => [e.type, e.data.code, e.data.orderId, e.data.source]).sort()).toEqual(
      [
        ['code.redeemed', ann, 'o-1', 'file'],
        ['code.redeemed', bob, 'o-2', 'file'],
        ['code.redeemed', free, 'o-3', 'file'],
      ].sort(),
    );
    const listed = (await a.call('GET', `/v1/merchants/${t.merchantId}/redemptions?source=file`, undefined, 200)).items;
    expect(new Set(events.map((e) => e.data.redemptionId))).toEqual(new Set(listed.map((r: { id: string }) => r.id)));

    // The same file again records nothing new: no second event.
    const again = await importFile(`code,orderId\n${ann},o-1\n`, 'skip');
    expect(again.json()).toMatchObject({ recorded: 0, duplicates: 1 });
    expect(await queued()).toHaveLength(3);
  });

  it('an event naming couponCode(s) ends the run handed the code and queues code.redeemed (source event)', async () => {
    const cat = handed.get('cat@example.com')!;
    const dan = handed.get('dan@example.com')!;
    const res = await a.call(
      'POST',
      '/v1/events',
      { type: 'order_placed', email: 'cat@example.com', properties: { couponCode: cat, orderId: 'ord-cat' } },
      202,
    );
    expect(res.redemptions.recorded).toEqual([expect.objectContaining({ code: cat })]);
    expect(await statusOf('cat@example.com')).toEqual({ status: 'exited', exitReason: 'redeemed' });
    expect(await statusOf('dan@example.com')).toEqual({ status: 'active', exitReason: null });
    expect((await queued()).filter((e) => e.data.source === 'event').map((e) => [e.data.code, e.data.orderId])).toEqual([[cat, 'ord-cat']]);

    // With no webhook subscribed, the redemptions are not read back for code.redeemed, yet a run handed the code still ends.
    const gone = await app.http.inject({ method: 'DELETE', url: `/v1/webhooks/${webhookId}`, headers: t.auth });
    expect(gone.statusCode, gone.body).toBe(204);
    const before = await queued();
    const batch = await a.call(
      'POST',
      '/v1/events/batch',
      {
        events: [
          { type: 'order_placed', email: 'dan@example.com', properties: { couponCodes: [dan, 'NOPE'], orderId: 'ord-dan' } },
          { type: 'order_placed', email: 'cat@example.com', properties: { couponCode: cat, orderId: 'ord-cat' } },
        ],
      },
      202,
    );
    expect(batch.results[0].redemptions.recorded).toEqual([expect.objectContaining({ code: dan })]);
    expect(batch.results[1].redemptions.recorded).toEqual([]);
    expect(await statusOf('dan@example.com')).toEqual({ status: 'exited', exitReason: 'redeemed' });
    expect(await queued()).toEqual(before);
  });
});
