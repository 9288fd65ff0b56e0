import { expect, it } from 'vitest';
import { sql } from 'kysely';
import { describeEachEngine } from '../helpers/engines.ts';
import { newTenant } from '../helpers/app.ts';
import { useTenant } from '../helpers/fixture.ts';
import { eventsService } from '../../src/modules/events/service.ts';
import { ownerPrincipal } from '../../src/modules/accounts/principal.ts';

describeEachEngine('events', (ctx) => {
  const { app, t } = useTenant(ctx);

  const send = (payload: object, auth = t.auth) => app.http.inject({ method: 'POST', url: '/v1/events', headers: auth, payload });
  const eventsOf = async (contactId: string) =>
    (
      await sql<{
        type: string;
        idempotency_key: string | null;
        properties: unknown;
        occurred_at: Date;
      }>`select type, idempotency_key, properties, occurred_at from events where contact_id = ${contactId} order by created_at, id`.execute(
        ctx.database.db,
      )
    ).rows;

  it('creates the contact if new and records the event (202)', async () => {
    const res = await send({
      type: 'cart_abandoned',
      email: 'Eve@Example.com',
      properties: { cart: 42 },
      occurredAt: '2026-03-01T10:00:00+01:00',
    });
    expect(res.statusCode).toBe(202);
    expect(res.json()).toEqual({ contactId: expect.any(String), enrolled: [], exited: [], duplicate: false });
    const contact = (await app.http.inject({ method: 'GET', url: '/v1/contacts?email=eve%40example.com', headers: t.auth })).json();
    expect(contact.id).toBe(res.json().contactId);
    const again = await send({ type: 'order_placed', email: 'eve@example.com' });
    expect(again.json().contactId).toBe(contact.id);
    const events = await eventsOf(contact.id);
    expect(events.map((e) => e.type)).toEqual(['cart_abandoned', 'order_placed']);
    expect(events[0]).toMatchObject({ properties: { cart: 42 }, occurred_at: new Date('2026-03-01T09:00:00Z') });
    expect(events[1]!.occurred_at).toEqual(app.clock.now());
  });

  it('records an event key once: a repeat does nothing and answers the same contact', async () => {
    const first = await send({ type: 'cart_abandoned', email: 'fay@example.com', idempotencyKey: 'k-1' });
    const second = await send({ type: 'cart_abandoned', email: 'fay@example.com', idempotencyKey: 'k-1' });
    expect(second.statusCode).toBe(202);
    expect(second.json()).toEqual({ contactId: first.json().contactId, enrolled: [], exited: [], duplicate: true });
    // Even with another email: nothing is done, no contact is created.
    const third = await send({ type: 'cart_abandoned', email: 'gus@example.com', idempotencyKey: 'k-1' });
    expect(third.json().contactId).toBe(first.json().contactId);
    expect((await app.http.inject({ method: 'GET', url: '/v1/contacts?email=gus%40example.com', headers: t.auth })).statusCode).toBe(404);
    expect((await eventsOf(first.json().contactId)).filter((e) => e.idempotency_key === 'k-1')).toHaveLength(1);
    // Concurrent repeats: one event.
    const answers = await Promise.all(
      Array.from({ length: 5 }, () => send({ type: 'x', email: 'hal@example.com', idempotencyKey: 'k-race' })),
    );
    expect(new Set(answers.map((a) => a.json().contactId)).size).toBe(1);
    expect(
      await app.services.events.recordEvent(ownerPrincipal(t.accountId, 't'), {
        type: 'x',
        email: 'hal@example.com',
        idempotencyKey: 'k-race',
      }),
    ).toMatchObject({ duplicate: true });
    const n = await sql<{
      n: number;
    }>`select count(*)::int as n from events where account_id = ${t.accountId} and idempotency_key = 'k-race'`.execute(ctx.database.db);
    expect(n.rows[0]!.n).toBe(1);
  });

  it('keeps keys per account', async () => {
    const other = await newTenant(app);
    const mine = await send({ type: 'x', email: 'ida@example.com', idempotencyKey: 'shared' });
    const theirs = await send({ type: 'x', email: 'ida@example.com', idempotencyKey: 'shared' }, other.auth);
    expect(theirs.json()).toMatchObject({ duplicate: false });
    expect(theirs.json().contactId).not.toBe(mine.json().contactId);
  });

  it('hands each new event to onEvent in its transaction, and repeats its answer for a replayed key', async () => {
    const seen: string[] = [];
    const events = eventsService({
      database: ctx.database,
      clock: app.clock,
      onEvent: async (tx, event) => {
        const row = await sql<{ n: number }>`select count(*)::int as n from events where id = ${event.id}`.execute(tx);
        seen.push(`${event.type}:${row.rows[0]!.n}`);
        return { enrolled: ['conv-1'], exited: [] };
      },
    });
    const principal = ownerPrincipal(t.accountId, 't');
    const first = await events.recordEvent(principal, { type: 'signup', email: 'joe@example.com', idempotencyKey: 'hook-1' });
    expect(first).toMatchObject({ enrolled: ['conv-1'], exited: [], duplicate: false });
    expect(await events.recordEvent(principal, { type: 'signup', email: 'joe@example.com', idempotencyKey: 'hook-1' })).toEqual({
      ...first,
      duplicate: true,
    });
    expect(seen).toEqual(['signup:1']);
    // A hook that fails rolls the event (and a new contact) back.
    const failing = eventsService({
      database: ctx.database,
      clock: app.clock,
      onEvent: async () => {
        throw new Error('boom');
      },
    });
    await expect(failing.recordEvent(principal, { type: 'x', email: 'kim@example.com', idempotencyKey: 'hook-2' })).rejects.toThrow('boom');
    expect((await app.http.inject({ method: 'GET', url: '/v1/contacts?email=kim%40example.com', headers: t.auth })).statusCode).toBe(404);
  });

  it('validates the event (422)', async () => {
    for (const body of [
      { email: 'a@example.com' },
      { type: 'x' },
      { type: '', email: 'a@example.com' },
      { type: 'x', email: 'nope' },
      { type: 'x', email: 'a@example.com', occurredAt: 'yesterday' },
      { type: 'x', email: 'a@example.com', properties: [1] },
      { type: 'x', email: 'a@example.com', idempotencyKey: '' },
    ]) {
      expect((await send(body)).statusCode, JSON.stringify(body)).toBe(422);
    }
  });
});
