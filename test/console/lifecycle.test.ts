import { describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { api } from '../conductor/setup.ts';
import { useConsole } from './fixture.ts';

/** Issue 19 in the console: undo an upload, archive a pool (and the archived list), a contact's personal data. */
describe('console: the data lifecycle', () => {
  let a: ReturnType<typeof api>;
  let spring: { id: string; name: string };
  let held: { id: string; name: string };
  let conversation: { id: string; name: string };
  const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);

  const { server, page, t } = useConsole({
    account: 'Lifecycle Co',
    async seed({ server, t }) {
      a = api(server.app as Parameters<typeof api>[0], t);
      spring = await a.pool({ name: 'Spring codes' });
      // A pool a live conversation hands out: archiving it is refused, naming the conversation.
      held = await a.pool({ name: 'Welcome codes', defaultCode: 'WELCOME' });
      const { code } = await a.couponFields();
      conversation = await a.conversation({
        name: 'Welcome series',
        trigger: { event: 'signed_up' },
        steps: [
          {
            type: 'action',
            name: 'Assign',
            action: { type: 'assignCoupon', merchantId: t.merchantId, poolId: held.id, saveCodeTo: code.id, whenNoCode: 'continue' },
          },
        ],
      });
      await a.publish(conversation.id);
    },
    signIn: { at: '', ready: (page) => page.getByRole('heading', { name: 'Coupon Manager' }) },
  });

  const shown = async (key: string) => (await page.getByLabel('Pool counts').locator(`[data-count="${key}"] dd`).textContent())?.trim();

  /** Uploads a file through the pool page's dialog; `expiresOn`: every code expires that day. */
  async function uploadFile(name: string, content: string, expiresOn?: string) {
    await page.getByRole('button', { name: 'Upload codes', exact: true }).click();
    const dialog = page.getByRole('dialog', { name: /Upload codes to Spring codes/ });
    if (expiresOn) {
      await dialog.getByLabel('Expire on').check();
      await dialog.getByLabel('Expires on').fill(expiresOn);
    }
    await dialog.getByLabel('File', { exact: true }).setInputFiles({ name, mimeType: 'text/plain', buffer: Buffer.from(content) });
    await dialog.getByRole('button', { name: 'Upload File' }).click();
    await dialog.getByRole('status', { name: 'Upload report' }).getByText('Imported.').waitFor();
    await dialog.getByRole('button', { name: 'Done' }).click();
    await dialog.waitFor({ state: 'hidden' });
  }

  it('undo an upload from the pool page: the confirmation says how many codes go; then the counts, and the upload shown as undone', async () => {
    await page.goto(`${server.url}/#/pools/${spring.id}`);
    await page.getByRole('heading', { name: /Spring codes/ }).waitFor();
    await uploadFile('first.txt', 'A1\nA2\nA3\nA4\n');
    // The second file's codes expire first: they are the ones handed out first.
    await uploadFile('second.txt', 'B1\nB2\nB3\nB4\nB5\n', day(60));
    await expect.poll(() => shown('total')).toBe('9');
    for (const n of [1, 2])
      await a.call('POST', `/v1/pools/${spring.id}/assignments`, { email: `taker${n}@example.com`, idempotencyKey: `take-${n}` }, 201);
    await page.reload();
    await expect.poll(() => shown('assigned')).toBe('2');

    const uploads = page.getByRole('table', { name: 'Uploads' });
    const row = uploads.locator('tr', { hasText: 'second.txt' });
    await row.getByRole('button', { name: 'Undo upload second.txt' }).click();
    const dialog = page.getByRole('dialog', { name: 'Undo this upload?' });
    // B3, B4, B5: the second upload's codes nobody has; B1 and B2 are assigned and stay.
    await expect.poll(() => dialog.getByTestId('undo-count').textContent()).toContain('3 codes not yet handed out will be removed');
    expect(await dialog.textContent()).toContain('second.txt');
    await dialog.getByRole('button', { name: 'Remove 3 codes' }).click();
    await expect
      .poll(() => dialog.getByRole('status').textContent())
      .toBe('Upload undone: 3 codes removed from the pool; 2 codes kept (already assigned to contacts).');
    await dialog.getByRole('button', { name: 'Close' }).last().click();
    await dialog.waitFor({ state: 'hidden' });

    // The counts refreshed without a reload, and agree with the server.
    await expect.poll(() => shown('total')).toBe('6');
    expect(await shown('available')).toBe('4');
    expect(await shown('assigned')).toBe('2');
    const pool = await a.call('GET', `/v1/pools/${spring.id}`, undefined, 200);
    expect(pool.counts).toMatchObject({ total: 6, available: 4, assigned: 2 });
    // Shown as undone, with what it did, and no Undo any more; the first upload still has its own.
    await expect.poll(() => row.locator('td').nth(2).textContent()).toBe('undone 3 codes removed, 2 kept (already assigned)');
    expect(await row.getByRole('button', { name: /Undo/ }).count()).toBe(0);
    expect(await uploads.locator('tr', { hasText: 'first.txt' }).getByRole('button', { name: 'Undo upload first.txt' }).count()).toBe(1);
    const listed = (await a.call('GET', `/v1/pools/${spring.id}/uploads`, undefined, 200)).items as { fileName: string; status: string }[];
    expect(listed.find((u) => u.fileName === 'second.txt')).toMatchObject({ status: 'undone', removed: 3, keptAssigned: 2 });
  });

  it('archive: refused in words naming the conversation; an archived pool takes no uploads and is listed apart; unarchive brings it back', async () => {
    await page.goto(`${server.url}/#/pools/${held.id}`);
    await page.getByRole('heading', { name: /Welcome codes/ }).waitFor();
    await page.getByRole('button', { name: 'Archive', exact: true }).click();
    const alert = page.getByRole('alert');
    await expect
      .poll(() => alert.textContent())
      .toBe(
        '“Welcome codes” can’t be archived while a conversation hands out its codes: Welcome series (running). Switch it to another pool first; a paused conversation still counts, as it can be resumed.',
      );
    expect(await alert.getByRole('link', { name: 'Welcome series' }).getAttribute('href')).toBe(`#/conversations/${conversation.id}`);
    expect((await a.call('GET', `/v1/pools/${held.id}`, undefined, 200)).archivedAt).toBeNull();

    await page.goto(`${server.url}/#/pools/${spring.id}`);
    await page.getByRole('heading', { name: /Spring codes/ }).waitFor();
    await page.getByRole('button', { name: 'Archive', exact: true }).click();
    await page.getByRole('button', { name: 'Unarchive' }).waitFor();
    expect(await page.getByRole('heading', { name: /Spring codes/ }).textContent()).toContain('archived');
    expect(await page.getByRole('button', { name: 'Upload codes', exact: true }).count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Generate' }).count()).toBe(0);
    await page
      .getByRole('note')
      .getByText(/this pool hands out no codes and takes none/)
      .waitFor();
    expect((await a.call('GET', `/v1/pools/${spring.id}`, undefined, 200)).archivedAt).toEqual(expect.any(String));

    // The list: gone from the pools in use, in the Archived view, marked, without an upload button.
    await page.goto(`${server.url}/#/pools`);
    const current = page.getByRole('table', { name: 'Coupon pools' });
    await current.locator('tr[data-pool="Welcome codes"]').waitFor();
    expect(await current.locator('tr[data-pool="Spring codes"]').count()).toBe(0);
    await page.getByRole('button', { name: 'Archived' }).click();
    const apart = page.getByRole('table', { name: 'Archived pools' });
    const row = apart.locator('tr[data-pool="Spring codes"]');
    await row.waitFor();
    expect(await apart.locator('tbody tr').count()).toBe(1);
    expect(await row.locator('td').first().textContent()).toBe('Spring codes archived');
    expect(await row.getByRole('button', { name: /Upload codes/ }).count()).toBe(0);

    await row.getByRole('link', { name: 'Spring codes' }).click();
    await page.getByRole('button', { name: 'Unarchive' }).click();
    await page.getByRole('button', { name: 'Upload codes', exact: true }).waitFor();
    expect(await page.getByRole('heading', { name: /Spring codes/ }).textContent()).not.toContain('archived');
    await page.goto(`${server.url}/#/pools`);
    await page.getByRole('table', { name: 'Coupon pools' }).locator('tr[data-pool="Spring codes"]').waitFor();
    await page.getByRole('button', { name: 'Archived' }).click();
    await page.getByText('No archived pools').waitFor();
  });

  it("a contact's personal data: Export downloads everything as JSON; Erase asks first, removes the contact, its code shows as an erased contact's", async () => {
    const assigned = await a.call(
      'POST',
      `/v1/pools/${spring.id}/assignments`,
      { email: 'leaving@example.com', idempotencyKey: 'leaving' },
      201,
    );
    await page.goto(`${server.url}/#/contacts/${assigned.contactId}`);
    await page.getByRole('heading', { name: 'leaving@example.com' }).waitFor();
    const panel = page.getByLabel('Personal data');
    const [download] = await Promise.all([page.waitForEvent('download'), panel.getByRole('button', { name: 'Export' }).click()]);
    expect(download.suggestedFilename()).toBe(`contact-${assigned.contactId}.json`);
    const exported = JSON.parse(await readFile((await download.path())!, 'utf8'));
    expect(exported.contact).toMatchObject({ id: assigned.contactId, email: 'leaving@example.com' });
    expect(exported.codes).toEqual([expect.objectContaining({ code: assigned.code, poolId: spring.id })]);

    // Dismissed: nothing happens.
    page.once('dialog', (d) => void d.dismiss());
    await panel.getByRole('button', { name: 'Erase' }).click();
    expect((await server.app.http.inject({ method: 'GET', url: `/v1/contacts/${assigned.contactId}`, headers: t.auth })).statusCode).toBe(
      200,
    );
    let asked = '';
    page.once('dialog', (d) => {
      asked = d.message();
      void d.accept();
    });
    await panel.getByRole('button', { name: 'Erase' }).click();
    await page.getByRole('heading', { name: 'Contacts' }).waitFor();
    expect(asked).toContain('Erase leaving@example.com?');
    expect((await server.app.http.inject({ method: 'GET', url: `/v1/contacts/${assigned.contactId}`, headers: t.auth })).statusCode).toBe(
      404,
    );

    // The code stays used, listed on the pool page without the person.
    await page.goto(`${server.url}/#/pools/${spring.id}`);
    const list = page.getByRole('table', { name: 'Assignments list' });
    const row = list.locator('tr', { hasText: assigned.code });
    await row.waitFor();
    expect(await row.locator('td').nth(1).textContent()).toBe('erased contact');
    expect(await list.getByText('taker1@example.com').count()).toBe(1);
    // The codes list, too, names nobody for it.
    const codes = await a.call('GET', `/v1/pools/${spring.id}/codes?limit=500`, undefined, 200);
    expect(JSON.stringify(codes)).not.toContain('leaving@example.com');
  });
});
