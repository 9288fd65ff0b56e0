import { beforeAll, expect, it } from 'vitest';
import { sql } from 'kysely';
import { describeEachEngine } from '../helpers/engines.ts';
import { newTenant } from '../helpers/app.ts';
import { useTenant } from '../helpers/fixture.ts';
import { api } from '../conductor/setup.ts';

type Conv = { id: string; name: string; steps: { id: string; type: string }[] };

/** Data lifecycle (issue 19, item 3): delete fields, groups, messages and draft conversations; archive published ones. */
describeEachEngine('data lifecycle: delete and archive what nothing uses', (ctx) => {
  const { app, t } = useTenant(ctx);
  let a: ReturnType<typeof api>;
  beforeAll(() => {
    a = api(app, t);
  });

  const send = (method: 'DELETE' | 'POST', url: string) => app.http.inject({ method, url, headers: t.auth });
  /** Contacts of the account that hold a value under this field id (straight from the table). */
  const holding = async (fieldId: string) =>
    (
      await sql<{ n: number }>`select count(*)::int as n from contacts where account_id = ${t.accountId} and fields ? ${fieldId}`.execute(
        ctx.database.db,
      )
    ).rows[0]!.n;
  const audited = async (action: string) =>
    (
      (await a.call('GET', `/v1/audit?action=${action}`, undefined, 200)).items as { action: string; resource: { id: string | null } }[]
    ).map((e) => e.resource.id);
  const refusal = (res: {
    statusCode: number;
    body: string;
    json: () => { error: { code: string; message: string; details: unknown[] } };
  }) => {
    expect(res.statusCode, res.body).toBe(409);
    return res.json().error;
  };
  const assignSteps = (poolId: string, codeFieldId: string, messageId: string) => [
    { type: 'delay', name: 'Wait an hour', duration: 'PT1H' },
    {
      type: 'action',
      name: 'Assign Coupon Code 10%',
      action: { type: 'assignCoupon', merchantId: t.merchantId, poolId, saveCodeTo: codeFieldId, whenNoCode: 'continue' },
    },
    { type: 'message', name: 'Your 10% off', messageId },
  ];

  it('a field nothing uses is deleted and its values leave every contact (other fields stay); a group with its fields too', async () => {
    const group = await a.call('POST', '/v1/field-groups', { name: 'Prefs' }, 201);
    const color = await a.call('POST', `/v1/field-groups/${group.id}/fields`, { name: 'Color', type: 'text' }, 201);
    const size = await a.call('POST', `/v1/field-groups/${group.id}/fields`, { name: 'Size', type: 'number' }, 201);
    for (let i = 0; i < 5; i++)
      await a.call(
        'PUT',
        '/v1/contacts',
        { email: `p${i}@example.com`, fields: { Prefs: { Color: `c${i}`, ...(i < 3 ? { Size: i } : {}) } } },
        200,
      );
    await a.call('PUT', '/v1/contacts', { email: 'none@example.com' }, 200);
    expect(await holding(color.id)).toBe(5);
    expect(await holding(size.id)).toBe(3);

    const res = await send('DELETE', `/v1/field-groups/${group.id}/fields/${color.id}`);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({ fieldsDeleted: 1, valuesRemoved: 5 });
    expect(await holding(color.id)).toBe(0);
    expect(await holding(size.id)).toBe(3);
    const contact = await a.call('GET', '/v1/contacts?email=p1@example.com', undefined, 200);
    expect(contact.fields).toEqual({ Prefs: { Size: 1 } });
    expect((await a.call('GET', `/v1/field-groups/${group.id}`, undefined, 200)).fields.map((f: { id: string }) => f.id)).toEqual([
      size.id,
    ]);
    expect((await send('DELETE', `/v1/field-groups/${group.id}/fields/${color.id}`)).statusCode).toBe(404);
    expect(await audited('field.delete')).toContain(color.id);

    const gone = await send('DELETE', `/v1/field-groups/${group.id}`);
    expect(gone.statusCode, gone.body).toBe(200);
    expect(gone.json()).toEqual({ fieldsDeleted: 1, valuesRemoved: 3 });
    expect(await holding(size.id)).toBe(0);
    expect((await send('DELETE', `/v1/field-groups/${group.id}`)).statusCode).toBe(404);
    expect(await audited('field_group.delete')).toContain(group.id);
    // Another account's field: not found.
    const rival = await newTenant(app);
    const other = await a.call('POST', '/v1/field-groups', { name: 'Mine' }, 201);
    expect((await app.http.inject({ method: 'DELETE', url: `/v1/field-groups/${other.id}`, headers: rival.auth })).statusCode).toBe(404);
  });

  it('a field, group or message that conversations or messages use is refused (409), naming each user and its steps; nothing changes', async () => {
    const pool = await a.pool();
    await a.upload(pool.id, 'LIVE1\nLIVE2\n', { expiration: 'none' });
    const { group, code, expiration } = await a.couponFields();
    const note = await a.call('POST', `/v1/field-groups/${group.id}/fields`, { name: 'Note', type: 'text' }, 201);
    const message = await a.message(`<p>Your code: ${code.snippet}</p>`);
    const live = (await a.commit(
      await a.conversation({ trigger: { event: 'del_live' }, steps: assignSteps(pool.id, code.id, message.id) }),
    )) as Conv;
    await a.publish(live.id);
    const assignId = live.steps[1]!.id;
    const sendId = live.steps[2]!.id;
    // A draft that sets the note field and sends another message.
    const reader = await a.message(`<p>${note.snippet}</p>`);
    const plain = await a.message('<p>Hello</p>');
    const draft = await a.conversation({
      trigger: { event: 'del_draft' },
      steps: [
        { type: 'action', name: 'Remember', action: { type: 'setField', field: expiration.id, value: '2026-12-31' } },
        { type: 'message', name: 'Hello', messageId: plain.id },
      ],
    });
    await a.call('PUT', '/v1/contacts', { email: 'kept@example.com', fields: { [group.name]: { SCA10Off: 'OLD', Note: 'n' } } }, 200);

    // The code field: the live conversation fills it (step named) and the message reads it (a frozen copy in the step too).
    const byLive = refusal(await send('DELETE', `/v1/field-groups/${group.id}/fields/${code.id}`));
    expect(byLive.code).toBe('field_in_use');
    expect(byLive.message).toContain(live.name);
    expect(byLive.message).toContain(message.name);
    expect(byLive.details).toEqual([
      {
        type: 'conversation',
        id: live.id,
        name: live.name,
        status: 'live',
        steps: [
          { id: assignId, name: 'Assign Coupon Code 10%' },
          { id: sendId, name: 'Your 10% off' },
        ],
      },
      { type: 'message', id: message.id, name: message.name },
    ]);
    // The expiration field: only the draft sets it.
    const byDraft = refusal(await send('DELETE', `/v1/field-groups/${group.id}/fields/${expiration.id}`));
    expect(byDraft.details).toEqual([
      { type: 'conversation', id: draft.id, name: draft.name, status: 'draft', steps: [{ id: draft.steps[0].id, name: 'Remember' }] },
    ]);
    // The note field: only a message's template reads it.
    expect(refusal(await send('DELETE', `/v1/field-groups/${group.id}/fields/${note.id}`)).details).toEqual([
      { type: 'message', id: reader.id, name: reader.name },
    ]);
    // The group: refused, naming per field who uses it.
    const byGroup = refusal(await send('DELETE', `/v1/field-groups/${group.id}`));
    expect(byGroup.code).toBe('group_in_use');
    expect(byGroup.details).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ type: 'conversation', id: live.id, field: { id: code.id, name: 'SCA10Off' } }),
        expect.objectContaining({ type: 'conversation', id: draft.id, field: { id: expiration.id, name: 'SCA10Off Expiration' } }),
        expect.objectContaining({ type: 'message', id: reader.id, field: { id: note.id, name: 'Note' } }),
      ]),
    );
    expect(await holding(code.id)).toBe(1);
    expect((await a.call('GET', `/v1/field-groups/${group.id}`, undefined, 200)).fields).toHaveLength(3);

    // Messages: the live conversation sends one, the draft the other.
    const msgLive = refusal(await send('DELETE', `/v1/messages/${message.id}`));
    expect(msgLive.code).toBe('message_in_use');
    expect(msgLive.details).toEqual([
      { type: 'conversation', id: live.id, name: live.name, status: 'live', steps: [{ id: sendId, name: 'Your 10% off' }] },
    ]);
    const msgDraft = refusal(await send('DELETE', `/v1/messages/${plain.id}`));
    expect(msgDraft.message).toContain(`the conversation "${draft.name}" (draft; step "Hello")`);
    // A message nothing sends: deleted (204), then 404.
    const spare = await a.message('<p>Spare</p>');
    expect((await send('DELETE', `/v1/messages/${spare.id}`)).statusCode).toBe(204);
    expect((await send('DELETE', `/v1/messages/${spare.id}`)).statusCode).toBe(404);
    expect(await audited('message.delete')).toContain(spare.id);
  });

  it('a draft conversation is deleted; a published one is archived: it enrolls nobody, its runs finish, it is listed apart', async () => {
    const pool = await a.pool();
    await a.upload(pool.id, 'ARC1\nARC2\nARC3\n', { expiration: 'none' });
    const { group, code } = await a.couponFields();
    const message = await a.message(`<p>Code ${code.snippet}</p>`);

    const draft = await a.conversation({ trigger: { event: 'arc_draft' }, steps: assignSteps(pool.id, code.id, message.id) });
    expect((await send('DELETE', `/v1/conversations/${draft.id}`)).statusCode).toBe(204);
    expect((await app.http.inject({ method: 'GET', url: `/v1/conversations/${draft.id}`, headers: t.auth })).statusCode).toBe(404);
    expect(await audited('conversation.delete')).toContain(draft.id);

    const live = (await a.commit(
      await a.conversation({ trigger: { event: 'arc_live' }, steps: assignSteps(pool.id, code.id, message.id) }),
    )) as Conv;
    await a.publish(live.id);
    const published = refusal(await send('DELETE', `/v1/conversations/${live.id}`));
    expect(published.code).toBe('conversation_published');
    expect(published.message).toContain('archive');

    expect((await a.event('arc_live', 'runner@example.com')).enrolled).toEqual([live.id]);
    const archived = await a.call('POST', `/v1/conversations/${live.id}/archive`, undefined, 200);
    expect(archived.archivedAt).toEqual(expect.any(String));
    expect(archived.status).toBe('live');
    const listed = (await a.call('GET', '/v1/conversations?limit=500', undefined, 200)).items.map((c: { id: string }) => c.id);
    const apart = (await a.call('GET', '/v1/conversations?archived=true', undefined, 200)).items.map((c: { id: string }) => c.id);
    expect(listed).not.toContain(live.id);
    expect(apart).toEqual([live.id]);
    // Nobody new is enrolled; publish is refused while archived.
    expect((await a.event('arc_live', 'late@example.com')).enrolled).toEqual([]);
    expect(refusal(await send('POST', `/v1/conversations/${live.id}/publish`)).code).toBe('conversation_archived');

    // The run in progress still uses the field and the message (its version runs): refused, naming the archived conversation.
    expect(refusal(await send('DELETE', `/v1/messages/${message.id}`)).details).toEqual([
      expect.objectContaining({ id: live.id, name: live.name }),
    ]);
    // It finishes on its version: code assigned, mail sent.
    app.clock.advance(61 * 60_000);
    await app.services.engine.runDue();
    const [run] = await a.enrollments(live.id);
    expect(run.status).toBe('completed');
    const [mail] = await a.mailsTo('runner@example.com');
    expect(mail!.html).toMatch(/ARC\d/);
    // Then nothing runs it: the message and the group (its fields) can go; the contact's code value goes with them.
    expect((await send('DELETE', `/v1/messages/${message.id}`)).statusCode).toBe(204);
    const groupGone = await send('DELETE', `/v1/field-groups/${group.id}`);
    expect(groupGone.statusCode, groupGone.body).toBe(200);
    expect(groupGone.json()).toEqual({ fieldsDeleted: 2, valuesRemoved: 1 });

    // Unarchive: listed again; it enrolls again.
    const back = await a.call('POST', `/v1/conversations/${live.id}/unarchive`, undefined, 200);
    expect(back.archivedAt).toBeNull();
    expect((await a.call('GET', '/v1/conversations?limit=500', undefined, 200)).items.map((c: { id: string }) => c.id)).toContain(live.id);
    expect(await audited('conversation.archive')).toContain(live.id);
  });

  it('a paused conversation with held runs is not archived (its runs would hold forever): resume first', async () => {
    const pool = await a.pool();
    await a.upload(pool.id, 'HELD1\n', { expiration: 'none' });
    const { code } = await a.couponFields();
    const message = await a.message(`<p>${code.snippet}</p>`);
    const c = (await a.commit(
      await a.conversation({ trigger: { event: 'held_live' }, steps: assignSteps(pool.id, code.id, message.id) }),
    )) as Conv;
    await a.publish(c.id);
    await a.event('held_live', 'held@example.com');
    await a.call('POST', `/v1/conversations/${c.id}/pause`, undefined, 200);
    const held = refusal(await send('POST', `/v1/conversations/${c.id}/archive`));
    expect(held.code).toBe('runs_held');
    expect(held.message).toContain(c.name);
    expect(held.details).toEqual([expect.objectContaining({ id: c.id, heldRuns: 1 })]);
    await a.call('POST', `/v1/conversations/${c.id}/resume`, undefined, 200);
    await a.call('POST', `/v1/conversations/${c.id}/archive`, undefined, 200);
    const [run] = await a.enrollments(c.id);
    expect(run.status).toBe('active');
  });
});
