import { beforeAll, expect, it } from 'vitest';
import { sql } from 'kysely';
import { describeEachEngine } from '../helpers/engines.ts';
import { newTenant } from '../helpers/app.ts';
import { useTenant } from '../helpers/fixture.ts';
import { api } from '../conductor/setup.ts';

/** Data lifecycle: undo an upload, archive a pool (refused while used, refusing publish after). */
describeEachEngine('data lifecycle: undo and archive', (ctx) => {
  const { app, t } = useTenant(ctx);
  let a: ReturnType<typeof api>;
  beforeAll(async () => {
    a = api(app, t);
  });

  const del = (url: string) => app.http.inject({ method: 'DELETE', url, headers: t.auth });
  const codesOf = async (poolId: string) =>
    ((await a.call('GET', `/v1/pools/${poolId}/codes?limit=500`, undefined, 200)).items as { code: string; status: string }[])
      .map((c) => c.code)
      .sort();
  /** The counters against count(*) of the codes themselves. */
  const countedTruly = async (poolId: string) => {
    const pool = await a.call('GET', `/v1/pools/${poolId}`, undefined, 200);
    const { rows } = await sql<{ total: number; unassigned: number }>`
      select count(*)::int as total, (count(*) filter (where c.assigned_at is null))::int as unassigned
      from codes c join pools p on p.key = c.pool_key where p.id = ${poolId}`.execute(ctx.database.db);
    expect(pool.counts.total).toBe(rows[0]!.total);
    expect(pool.counts.available + pool.counts.expired + pool.counts.withinCutoff).toBe(rows[0]!.unassigned);
    return pool.counts;
  };

  it('undo removes exactly the unassigned codes of that upload; assigned ones stay; the same code in another upload stays', async () => {
    const pool = await a.pool();
    const other = await a.pool();
    const first = await a.upload(pool.id, 'KEEP1\nKEEP2\n', { expiration: 'none' });
    const second = await a.upload(pool.id, 'GO1\nGO2\nGO3\nGO4\nGO5\n', { expiration: 'none' });
    // The same texts in another pool: another upload, untouched by the undo.
    await a.upload(other.id, 'GO1\nGO2\n', { expiration: 'none' });
    // Two codes handed out: soonest expiry ties → upload order, so KEEP1 and KEEP2 go first; take 4 to reach the second upload.
    for (let i = 0; i < 4; i++)
      await a.call('POST', `/v1/pools/${pool.id}/assignments`, { email: `c${i}@example.com`, idempotencyKey: `k${i}` }, 201);
    expect((await countedTruly(pool.id)).assigned).toBe(4);

    const res = await del(`/v1/uploads/${second.id}`);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({ removed: 3, keptAssigned: 2 });
    expect(await codesOf(pool.id)).toEqual(['GO1', 'GO2', 'KEEP1', 'KEEP2']);
    expect(await codesOf(other.id)).toEqual(['GO1', 'GO2']);
    const counts = await countedTruly(pool.id);
    expect(counts).toMatchObject({ total: 4, assigned: 4, available: 0 });
    await countedTruly(other.id);

    // Listed as undone, with what it did; a repeat answers the same and changes nothing.
    const uploads = (await a.call('GET', `/v1/pools/${pool.id}/uploads`, undefined, 200)).items as { id: string; status: string }[];
    expect(uploads.find((u) => u.id === second.id)).toMatchObject({ status: 'undone', removed: 3, keptAssigned: 2 });
    expect(uploads.find((u) => u.id === first.id)).toMatchObject({ status: 'imported', undoneAt: null });
    const again = await del(`/v1/uploads/${second.id}`);
    expect(again.statusCode).toBe(200);
    expect(again.json()).toEqual({ removed: 3, keptAssigned: 2 });
    await countedTruly(pool.id);

    // Another account's upload, or none: 404; a rejected upload has nothing to undo: 409.
    expect((await del('/v1/uploads/nope')).statusCode).toBe(404);
    const rival = await newTenant(app);
    expect((await app.http.inject({ method: 'DELETE', url: `/v1/uploads/${first.id}`, headers: rival.auth })).statusCode).toBe(404);
  });

  it('archive: refused while a live conversation uses the pool (naming it); an archived pool distributes nothing, takes no codes, is listed apart; publish refuses it', async () => {
    const pool = await a.pool({ defaultCode: 'FALLBACK' });
    await a.upload(pool.id, 'A1\nA2\n', { expiration: 'none' });
    const { code } = await a.couponFields();
    const steps = [
      {
        type: 'action',
        name: 'Assign',
        action: { type: 'assignCoupon', merchantId: t.merchantId, poolId: pool.id, saveCodeTo: code.id, whenNoCode: 'continue' },
      },
    ];
    const live = await a.conversation({ trigger: { event: 'lifecycle_live' }, steps });
    await a.publish(live.id);

    const refused = await app.http.inject({ method: 'POST', url: `/v1/pools/${pool.id}/archive`, headers: t.auth });
    expect(refused.statusCode).toBe(409);
    expect(refused.json().error.code).toBe('pool_in_use');
    expect(refused.json().error.message).toContain(live.name);
    expect(refused.json().error.details).toEqual([{ type: 'conversation', id: live.id, name: live.name, status: 'live' }]);
    // Paused still uses it.
    await a.call('POST', `/v1/conversations/${live.id}/pause`, undefined, 200);
    expect((await app.http.inject({ method: 'POST', url: `/v1/pools/${pool.id}/archive`, headers: t.auth })).statusCode).toBe(409);

    // A pool no conversation runs: archived.
    const spare = await a.pool({ defaultCode: 'SPARE' });
    await a.upload(spare.id, 'S1\n', { expiration: 'none' });
    const draft = await a.conversation({
      trigger: { event: 'lifecycle_draft' },
      steps: [{ ...steps[0], action: { ...steps[0]!.action, poolId: spare.id } }],
    });
    const archived = await a.call('POST', `/v1/pools/${spare.id}/archive`, undefined, 200);
    expect(archived.archivedAt).toEqual(expect.any(String));
    const assign = await app.http.inject({
      method: 'POST',
      url: `/v1/pools/${spare.id}/assignments`,
      headers: t.auth,
      payload: { email: 'x@example.com', idempotencyKey: 'arch' },
    });
    expect(assign.statusCode).toBe(409);
    expect(assign.json().error.code).toBe('pool_inactive');
    const upload = await app.http.inject({
      method: 'POST',
      url: `/v1/pools/${spare.id}/generate`,
      headers: t.auth,
      payload: { count: 2, length: 8 },
    });
    expect(upload.statusCode).toBe(409);
    expect(upload.json().error.code).toBe('pool_archived');
    const listed = (await a.call('GET', `/v1/merchants/${t.merchantId}/pools?limit=500`, undefined, 200)).items as { id: string }[];
    const apart = (await a.call('GET', `/v1/merchants/${t.merchantId}/pools?archived=true`, undefined, 200)).items as { id: string }[];
    expect(listed.map((p) => p.id)).not.toContain(spare.id);
    expect(apart.map((p) => p.id)).toEqual([spare.id]);

    // Publish refuses the draft that uses it; after unarchive it publishes.
    const publish = await app.http.inject({ method: 'POST', url: `/v1/conversations/${draft.id}/publish`, headers: t.auth });
    expect(publish.statusCode).toBe(422);
    expect(JSON.stringify(publish.json().error.details)).toContain('archived');
    await a.call('POST', `/v1/pools/${spare.id}/unarchive`, undefined, 200);
    await a.publish(draft.id);
    await countedTruly(spare.id);
  });

  it("GET /v1/uploads/{id} says what an undo would remove now: the upload's unassigned codes (0 once undone)", async () => {
    const pool = await a.pool();
    const first = await a.upload(pool.id, 'R1\nR2\n', { expiration: 'none' });
    const second = await a.upload(pool.id, 'R3\nR4\nR5\n', { expiration: 'none' });
    // R1, R2 (the first upload), then R3.
    for (let i = 0; i < 3; i++)
      await a.call('POST', `/v1/pools/${pool.id}/assignments`, { email: `r${i}@example.com`, idempotencyKey: `r${i}` }, 201);
    const read = (id: string) => a.call('GET', `/v1/uploads/${id}`, undefined, 200);
    expect(await read(second.id)).toMatchObject({ id: second.id, poolId: pool.id, status: 'imported', imported: 3, unassignedCodes: 2 });
    expect((await read(first.id)).unassignedCodes).toBe(0);
    // What it said is what the undo does.
    expect((await del(`/v1/uploads/${second.id}`)).json()).toEqual({ removed: 2, keptAssigned: 1 });
    expect(await read(second.id)).toMatchObject({ status: 'undone', removed: 2, keptAssigned: 1, unassignedCodes: 0 });
    expect((await app.http.inject({ method: 'GET', url: '/v1/uploads/nope', headers: t.auth })).statusCode).toBe(404);
    const rival = await newTenant(app);
    expect((await app.http.inject({ method: 'GET', url: `/v1/uploads/${first.id}`, headers: rival.auth })).statusCode).toBe(404);
  });

  it('notices after an undo: dropping to the threshold sends the low notice, to none sends the exhausted one, each once', async () => {
    const ops = `ops-${Math.random().toString(36).slice(2, 8)}@example.com`;
    const pool = await a.pool({ threshold: 3, notificationEmails: [ops] });
    const notices = async () =>
      ((await a.call('GET', `/v1/outbox?to=${encodeURIComponent(ops)}&kind=notification`, undefined, 200)).items as { subject: string }[])
        .map((m) => m.subject)
        .reverse();
    const first = await a.upload(pool.id, 'N1\nN2\nN3\nN4\n', { expiration: 'none' });
    const second = await a.upload(pool.id, 'N5\nN6\nN7\nN8\n', { expiration: 'none' });
    await a.call('POST', `/v1/pools/${pool.id}/assignments`, { email: 'n@example.com', idempotencyKey: 'n1' }, 201); // N1: 7 left
    expect(await notices()).toEqual([]);

    // 7 → 3 by the undo alone: at the threshold of 3.
    expect((await del(`/v1/uploads/${second.id}`)).json()).toEqual({ removed: 4, keptAssigned: 0 });
    expect(await notices()).toEqual([`Coupon pool "${pool.name}" is low: 3 codes left`]);
    // 1 → 0: exhausted (N1 stays assigned, so the pool has held codes).
    expect((await del(`/v1/uploads/${first.id}`)).json()).toEqual({ removed: 3, keptAssigned: 1 });
    expect(await notices()).toEqual([`Coupon pool "${pool.name}" is low: 3 codes left`, `Coupon pool "${pool.name}" has run out of codes`]);
    // A repeated undo removes nothing and sends nothing more.
    await del(`/v1/uploads/${first.id}`);
    expect(await notices()).toHaveLength(2);
    expect((await countedTruly(pool.id)).available).toBe(0);
  });
});
