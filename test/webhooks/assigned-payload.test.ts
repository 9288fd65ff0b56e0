import { expect, it } from 'vitest';
import { sql } from 'kysely';
import { describeEachEngine } from '../helpers/engines.ts';
import { useTenant } from '../helpers/fixture.ts';
import { api } from '../conductor/setup.ts';
import { ownerPrincipal } from '../../src/modules/accounts/principal.ts';

/**
 * code.assigned has one shape (assignments/assigned-event.ts) whichever path writes it: the lone
 * HTTP assignment's one statement (assign-one.sql.ts builds the event in SQL) or the batch path
 * (assignMany, as the conductor calls it: app.ts onAssigned builds it in JavaScript).
 */
describeEachEngine('code.assigned: the same event from the lone statement and the batch path', (ctx) => {
  const { app, t } = useTenant(ctx);

  it('same fields, same formats, the assignment as the API answers it', async () => {
    const a = api(app, t);
    await a.call('POST', '/v1/webhooks', { url: 'https://hooks.example.com/in', events: ['code.assigned'] }, 201);
    const pool = await a.pool({});
    await a.upload(pool.id, 'AP-1,2031-03-05\nAP-2,2031-03-06\n', { expiration: 'file' });
    await a.upload(pool.id, 'AP-3\n', { expiration: 'none' });

    const lone = await a.call('POST', `/v1/pools/${pool.id}/assignments`, { email: 'lone@example.com', idempotencyKey: 'lone' }, 201);
    const stored = await app.services.pools.getPoolFor(ownerPrincipal(t.accountId, 't'), pool.id);
    const contacts = await Promise.all(
      ['batch-1@example.com', 'batch-2@example.com'].map((email) => app.services.contacts.resolveContact(t.accountId, { email })),
    );
    const batch = await app.services.assignments.assignMany(
      stored,
      contacts.map((c, i) => ({ contactId: c.id, idempotencyKey: `batch-${i}` })),
    );

    const events = (
      await sql<{ event_id: string; type: string; payload: Record<string, unknown> }>`
        select event_id, type, payload from webhook_queue where account_id = ${t.accountId} order by created_at, event_id`.execute(
        ctx.database.db,
      )
    ).rows;
    expect(events).toHaveLength(3);
    const byAssignment = new Map(events.map((e) => [(e.payload.data as { assignmentId: string }).assignmentId, e]));
    const expected = [
      { id: lone.id, code: lone.code, source: 'unique', contactId: lone.contactId, expiresAt: lone.expiresAt },
      ...batch.map((o) => {
        if (!o.ok) throw new Error(o.reason);
        return { ...o.assignment, expiresAt: o.assignment.expiresAt?.toISOString() ?? null };
      }),
    ];
    // Soonest expiration first (the end of the dated day, to the millisecond), then the one that never expires (null).
    expect(expected.map((x) => [x.code, x.expiresAt])).toEqual([
      ['AP-1', '2031-03-05T23:59:59.999Z'],
      ['AP-2', '2031-03-06T23:59:59.999Z'],
      ['AP-3', null],
    ]);
    for (const x of expected) {
      const e = byAssignment.get(x.id)!;
      expect(e.type).toBe('code.assigned');
      expect(e.payload).toEqual({
        id: e.event_id,
        type: 'code.assigned',
        createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
        data: {
          assignmentId: x.id,
          poolId: pool.id,
          merchantId: t.merchantId,
          code: x.code,
          source: 'unique',
          contactId: x.contactId,
          expiresAt: x.expiresAt,
        },
      });
    }
  });
});
