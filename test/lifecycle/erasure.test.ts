import { expect, it } from 'vitest';
import { sql } from 'kysely';
import { describeEachEngine } from '../helpers/engines.ts';
import { useTenant } from '../helpers/fixture.ts';
import { multipart } from '../helpers/multipart.ts';
import { api } from '../conductor/setup.ts';

/**
 * Erasure and export of a contact (docs/ARCHITECTURE.md, "Erasure and export"). The leak check reads the catalog: every table and
 * every text, jsonb, json, uuid and array column, so a table added later that keeps the address
 * or the contact id fails this test until lifecycle.sql.ts handles it.
 */
describeEachEngine('contact erasure and export', (ctx) => {
  const { app, t } = useTenant(ctx);

  /** Every (table, column) whose value names `needle` (case-insensitive), with the row count. */
  async function rowsNaming(needles: string[]): Promise<string[]> {
    const columns = await sql<{ table_name: string; column_name: string }>`
      select c.table_name, c.column_name from information_schema.columns c
      join information_schema.tables t on t.table_schema = c.table_schema and t.table_name = c.table_name and t.table_type = 'BASE TABLE'
      where c.table_schema = current_schema()
        and (c.data_type in ('text', 'character varying', 'character', 'jsonb', 'json', 'uuid', 'ARRAY'))
      order by 1, 2`.execute(ctx.database.db);
    expect(columns.rows.length).toBeGreaterThan(50);
    const found: string[] = [];
    for (const { table_name, column_name } of columns.rows) {
      const col = sql.raw(`"${column_name}"::text`);
      for (const needle of needles) {
        const r = await sql<{ n: number }>`
          select count(*)::int as n from ${sql.table(table_name)} where strpos(lower(${col}), ${needle.toLowerCase()}) > 0`.execute(
          ctx.database.db,
        );
        if (r.rows[0]!.n > 0) found.push(`${table_name}.${column_name} (${r.rows[0]!.n}) names ${needle}`);
      }
    }
    return found;
  }

  it('export holds every kind of record; erasure leaves no row naming the person, the codes stay used, the suppression holds', async () => {
    const a = api(app, t);
    const email = 'Alice.Erase@Example.com';
    const pool = await a.pool({ expirationCutoffDays: 0 });
    await a.upload(pool.id, 'ER-0001,2027-06-30\nER-0002,2027-06-30\nER-0003,2027-06-30\n');
    const { group, code, expiration } = await a.couponFields();
    await a.call(
      'POST',
      '/v1/webhooks',
      { url: 'https://hooks.example.com/in', events: ['code.assigned', 'code.redeemed', 'contact.unsubscribed'] },
      201,
    );
    const message = await a.message(`<p>Hi {{ contact.email }}, your code {{ ${group.name}.SCA10Off }}</p>`);
    const draft = await a.conversation({
      trigger: { event: 'cart_abandoned' },
      exitEvents: [],
      reentry: 'afterCompletion',
      steps: [
        {
          type: 'action',
          name: 'Assign',
          action: {
            type: 'assignCoupon',
            merchantId: t.merchantId,
            poolId: pool.id,
            saveCodeTo: code.id,
            saveExpirationTo: expiration.id,
            whenNoCode: 'continue',
          },
        },
        { type: 'message', name: 'Mail', messageId: message.id },
      ],
    });
    await a.commit(draft);
    await a.publish(draft.id);
    const news = await a.conversation({
      trigger: { event: 'newsletter' },
      exitEvents: [],
      reentry: 'afterCompletion',
      steps: [{ type: 'message', name: 'News', messageId: (await a.message('<p>News</p>', 'News')).id }],
    });
    await a.commit(news);
    await a.publish(news.id);

    const contact = await a.call('PUT', '/v1/contacts', { email, fields: { [group.name]: { SCA10Off: 'typed by hand' } } }, 200);
    const ev = await a.event('cart_abandoned', email, { properties: { cart: `cart of ${email}` } });
    expect(ev.contactId).toBe(contact.id);
    expect((await app.services.engine.runDue()).runs).toBe(1);
    const direct = await a.call('POST', `/v1/pools/${pool.id}/assignments`, { email, idempotencyKey: `welcome-${email}` }, 201);
    await a.call(
      'POST',
      `/v1/merchants/${t.merchantId}/redemptions`,
      { code: direct.code, orderId: 'order-1', email, amount: 12.5, currency: 'EUR' },
      201,
    );
    await a.call('POST', '/v1/suppressions', { email, reason: 'manual' }, 201);

    // Export: everything held, by the API's names.
    const exported = await a.call('GET', `/v1/contacts/${contact.id}/export`, undefined, 200);
    expect(exported.contact).toMatchObject({ id: contact.id, email });
    expect(Object.keys(exported.contact.fields[group.name])).toContain('SCA10Off');
    expect(exported.events).toEqual([expect.objectContaining({ type: 'cart_abandoned', properties: { cart: `cart of ${email}` } })]);
    expect(exported.runs).toHaveLength(1);
    expect(exported.runs[0].steps.map((s: { outcome: string }) => s.outcome)).toEqual(['assigned', 'sent']);
    const handed = exported.codes.map((c: { code: string }) => c.code).sort();
    expect(handed).toHaveLength(2);
    expect(exported.redemptions).toEqual([expect.objectContaining({ code: direct.code, orderId: 'order-1', currency: 'EUR' })]);
    expect(exported.mails).toEqual([expect.objectContaining({ to: email, kind: 'message' })]);
    expect(exported.suppression).toMatchObject({ reason: 'manual' });

    // Before: the person is all over the database (the check can fail).
    expect((await rowsNaming([email, contact.id])).length).toBeGreaterThan(5);

    const erased = await app.http.inject({ method: 'DELETE', url: `/v1/contacts/${contact.id}`, headers: t.auth });
    expect(erased.statusCode, erased.body).toBe(204);
    expect(await rowsNaming([email, contact.id])).toEqual([]);
    expect((await app.http.inject({ method: 'DELETE', url: `/v1/contacts/${contact.id}`, headers: t.auth })).statusCode).toBe(404);
    expect((await app.http.inject({ method: 'GET', url: `/v1/contacts/${contact.id}`, headers: t.auth })).statusCode).toBe(404);

    // The audit log records the erasure, naming no one.
    const audit = await a.call('GET', '/v1/audit?action=contact.erase', undefined, 200);
    expect(audit.items).toEqual([expect.objectContaining({ action: 'contact.erase', resource: { type: 'contact', id: null } })]);

    // The codes stay used: the pool still counts them, and only the third one is left to hand out.
    expect((await a.call('GET', `/v1/pools/${pool.id}`, undefined, 200)).counts).toMatchObject({ assigned: 2, available: 1 });
    // …and the pool's assignment list (and its export) still shows them, naming no one.
    const listed = (await a.call('GET', `/v1/pools/${pool.id}/assignments`, undefined, 200)).items as {
      code: string;
      email: string | null;
      contactId: string;
    }[];
    expect(listed.map((x) => x.code).sort()).toEqual([...handed].sort());
    expect(listed.every((x) => x.email === null && x.contactId !== contact.id)).toBe(true);
    const csv = await app.http.inject({ method: 'GET', url: `/v1/pools/${pool.id}/assignments/export`, headers: t.auth });
    expect(csv.statusCode).toBe(200);
    const lines = csv.body.trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    for (const c of handed) expect(lines.some((line) => line.includes(c))).toBe(true);
    expect(csv.body.toLowerCase()).not.toContain(email.toLowerCase());
    const bob = await a.call('POST', `/v1/pools/${pool.id}/assignments`, { email: 'bob@example.com', idempotencyKey: 'bob-1' }, 201);
    expect(handed).not.toContain(bob.code);
    const carol = await app.http.inject({
      method: 'POST',
      url: `/v1/pools/${pool.id}/assignments`,
      headers: t.auth,
      payload: { email: 'carol@example.com', idempotencyKey: 'carol-1' },
    });
    expect(carol.statusCode).toBe(409);
    expect(carol.json().error.code).toBe('pool_exhausted');
    // The redemption stays, unlinked.
    const redemptions = await a.call('GET', `/v1/merchants/${t.merchantId}/redemptions`, undefined, 200);
    expect(redemptions.items).toEqual([expect.objectContaining({ code: direct.code, orderId: 'order-1', contactId: null })]);

    // Re-imported, the address is a new contact, and still suppressed: no mail to it, while bob gets his.
    const body = multipart({ onInvalid: 'reject' }, { name: 'contacts.csv', content: `email\n${email}\nbob@example.com\n` });
    const imported = await app.http.inject({
      method: 'POST',
      url: '/v1/contacts/import',
      headers: { ...t.auth, ...body.headers },
      payload: body.payload,
    });
    expect(imported.statusCode, imported.body).toBe(201);
    await a.event('newsletter', email);
    await a.event('newsletter', 'bob@example.com');
    await app.services.engine.runDue();
    expect((await a.mailsTo('bob@example.com')).map((m) => m.subject)).toContain('News');
    expect(await a.mailsTo(email)).toEqual([]);
    const runs = await a.enrollments(news.id);
    expect(runs.map((r: { exitReason: string | null }) => r.exitReason).sort()).toEqual([null, 'suppressed'].sort());
    // Removing the suppression of the address also removes its hash: it may be mailed again.
    expect(
      (await app.http.inject({ method: 'DELETE', url: `/v1/suppressions/${encodeURIComponent(email)}`, headers: t.auth })).statusCode,
    ).toBe(204);
  });

  it('a caller limited to some merchants may neither erase nor export; an unknown contact is 404', async () => {
    const limited = await app.http.inject({
      method: 'POST',
      url: '/v1/tokens',
      headers: t.auth,
      payload: { name: 'limited', role: 'owner', merchantIds: [t.merchantId] },
    });
    expect(limited.statusCode, limited.body).toBe(201);
    const headers = { authorization: `Bearer ${limited.json().token}` };
    const c = await api(app, t).call('PUT', '/v1/contacts', { email: 'dora@example.com' }, 200);
    expect((await app.http.inject({ method: 'DELETE', url: `/v1/contacts/${c.id}`, headers })).statusCode).toBe(403);
    expect((await app.http.inject({ method: 'GET', url: `/v1/contacts/${c.id}/export`, headers })).statusCode).toBe(403);
    expect((await app.http.inject({ method: 'GET', url: '/v1/contacts/nobody/export', headers: t.auth })).statusCode).toBe(404);
  });
});
