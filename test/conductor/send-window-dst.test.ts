import { beforeAll, expect, it } from 'vitest';
import { sql } from 'kysely';
import { describeEachEngine } from '../helpers/engines.ts';
import { useTenant } from '../helpers/fixture.ts';
import { api } from './setup.ts';

/**
 * Send windows in the engine, in the account's zone across a DST change: a message due at
 * 22:00 Berlin time on the night the clocks change waits until 09:00 Berlin time the next morning,
 * whose UTC instant differs from the evening's offset by the hour the clocks moved.
 */
describeEachEngine('conductor send window across DST', (ctx) => {
  const { app, t } = useTenant(ctx);
  let a: ReturnType<typeof api>;
  beforeAll(async () => {
    a = api(app, t);
    await sql`update accounts set time_zone = 'Europe/Berlin' where id = ${t.accountId}`.execute(ctx.database.db);
  });

  async function windowed(event: string) {
    const message = await a.message('<p>good morning</p>');
    const conv = await a.commit(
      await a.conversation({
        trigger: { event },
        sendWindow: { start: '09:00', end: '20:00' },
        steps: [{ type: 'message', name: 'Mail', messageId: message.id }],
      }),
    );
    await a.publish(conv.id);
    return conv;
  }

  /** Enters at `evening` (22:00 local), is held to exactly `opens` (09:00 local next day): not a minute before. */
  async function heldUntil(event: string, email: string, evening: string, opens: string) {
    const conv = await windowed(event);
    app.clock.set(evening);
    await a.event(event, email);
    await app.services.engine.runDue();
    expect(await a.mailsTo(email)).toEqual([]);
    const [run] = await a.enrollments(conv.id);
    expect(run).toMatchObject({ status: 'active', nextDueAt: opens });
    app.clock.set(new Date(Date.parse(opens) - 60_000).toISOString());
    await app.services.engine.runDue();
    expect(await a.mailsTo(email)).toEqual([]);
    app.clock.set(opens);
    await app.services.engine.runDue();
    expect(await a.mailsTo(email)).toHaveLength(1);
    const [done] = await a.enrollments(conv.id);
    expect(done.status).toBe('completed');
    expect(done.steps.map((s: { outcome: string }) => s.outcome)).toEqual(['sent']);
  }

  it('spring forward (2026-03-29): due 22:00 CET (21:00Z) is sent at 09:00 CEST, 07:00Z', async () => {
    await heldUntil('dst_spring', 'spring@example.com', '2026-03-28T21:00:00.000Z', '2026-03-29T07:00:00.000Z');
  });

  it('fall back (2026-10-25): due 22:00 CEST (20:00Z) is sent at 09:00 CET, 08:00Z', async () => {
    await heldUntil('dst_fall', 'fall@example.com', '2026-10-24T20:00:00.000Z', '2026-10-25T08:00:00.000Z');
  });
});
