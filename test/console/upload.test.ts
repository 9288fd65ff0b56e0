import { afterAll, describe, expect, it } from 'vitest';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { buildConsole } from './browser.ts';
import { useConsole } from './fixture.ts';

/**
 * A TCP proxy in front of the server that forwards what the browser sends at `bytesPerTick` every
 * 50 ms, so an upload is still under way when the test presses Cancel. `sent` counts the bytes
 * forwarded to the server.
 */
async function slowProxy(target: URL, bytesPerTick: number) {
  const sockets = new Set<Socket>();
  let sent = 0;
  const server: Server = createServer((client) => {
    const upstream = connect(Number(target.port), target.hostname);
    sockets.add(client).add(upstream);
    const queue: Buffer[] = [];
    const timer = setInterval(() => {
      let budget = bytesPerTick;
      while (budget > 0 && queue.length) {
        const head = queue[0]!;
        const piece = head.subarray(0, budget);
        if (piece.length === head.length) queue.shift();
        else queue[0] = head.subarray(budget);
        budget -= piece.length;
        sent += piece.length;
        upstream.write(piece);
      }
    }, 50);
    client.on('data', (chunk) => queue.push(chunk));
    upstream.pipe(client);
    const end = () => {
      clearInterval(timer);
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    sent: () => sent,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}

describe('console: the upload dialog', () => {
  let proxy: Awaited<ReturnType<typeof slowProxy>>;
  let poolId: string;
  const { server, page, t } = useConsole({
    account: 'Upload Co',
    async seed({ server, pool }) {
      poolId = (await pool('Big Pool')).id;
      proxy = await slowProxy(new URL(server.url), 16 * 1024);
    },
    signIn: { at: () => `${proxy.url}/#/pools/${poolId}`, ready: (page) => page.getByRole('heading', { name: /Big Pool/ }) },
  });
  afterAll(() => proxy?.close());

  const counts = async () => (await server.app.http.inject({ method: 'GET', url: `/v1/pools/${poolId}`, headers: t.auth })).json().counts;

  it('keeps the dialog open when the file picker is dismissed or the same file is chosen again; the hint follows the option', async () => {
    await page.getByRole('button', { name: 'Upload codes', exact: true }).click();
    const dialog = page.getByRole('dialog', { name: /Upload codes to Big Pool/ });
    const input = dialog.getByLabel('File', { exact: true });
    const file = { name: 'same.txt', mimeType: 'text/plain', buffer: Buffer.from('A1\nA2\n') };
    await input.setInputFiles(file);
    // What Chromium does when the picker is dismissed or the same file is picked: a bubbling `cancel`.
    await input.dispatchEvent('cancel', { bubbles: true });
    await input.setInputFiles(file);
    await input.dispatchEvent('cancel', { bubbles: true });
    expect(await dialog.isVisible()).toBe(true);
    expect(await page.evaluate('document.querySelector("dialog")?.open')).toBe(true);

    await expect.poll(() => dialog.getByText('the codes never expire').count()).toBe(1);
    await dialog.getByLabel('Use date in file').check();
    await dialog.getByLabel('Delimiter').selectOption(';');
    await expect
      .poll(() => dialog.getByText(/each line: the code, ";", then its expiration date \(e\.g\. SUMMER-0001;2026-12-31\)/).count())
      .toBe(1);
    await dialog.getByLabel('Expire on').check();
    await expect.poll(() => dialog.getByText('every code expires on the date above').count()).toBe(1);
    await dialog.getByLabel('No expiration date').check();

    // Escape on the dialog itself still closes it.
    await page.keyboard.press('Escape');
    await expect.poll(() => dialog.count()).toBe(0);
  });

  it('Cancel during a (throttled) upload stops it: the report says cancelled and the pool is unchanged', async () => {
    const before = await counts();
    await page.getByRole('button', { name: 'Upload codes', exact: true }).click();
    const dialog = page.getByRole('dialog', { name: /Upload codes to Big Pool/ });
    const lines = Array.from({ length: 200_000 }, (_, i) => `BIG-${String(i).padStart(7, '0')}`).join('\n');
    await dialog
      .getByLabel('File', { exact: true })
      .setInputFiles({ name: 'big.txt', mimeType: 'text/plain', buffer: Buffer.from(`${lines}\n`) });
    const sentBefore = proxy.sent();
    await dialog.getByRole('button', { name: 'Upload File' }).click();
    // Part of the file has reached the server (it streams codes as they arrive), not all of it.
    await expect.poll(() => proxy.sent() - sentBefore, { timeout: 15_000 }).toBeGreaterThan(300_000);
    await dialog.getByRole('button', { name: 'Cancel upload' }).click();
    await dialog.getByRole('status', { name: 'Upload report' }).getByText('Cancelled.').waitFor();
    expect(await dialog.getByRole('status', { name: 'Upload report' }).textContent()).toContain('nothing was imported');
    await dialog.getByText('Close', { exact: true }).waitFor();

    // The server saw the request cut short: nothing of it stays in the pool.
    await expect
      .poll(
        async () =>
          (await server.app.http.inject({ method: 'GET', url: `/v1/pools/${poolId}/uploads`, headers: t.auth })).json().items.length,
        { timeout: 15_000 },
      )
      .toBeGreaterThan(0);
    const uploads = (await server.app.http.inject({ method: 'GET', url: `/v1/pools/${poolId}/uploads`, headers: t.auth })).json().items;
    expect(uploads[0]).toMatchObject({ fileName: 'big.txt', imported: 0, status: 'cancelled' });
    expect(await counts()).toEqual(before);
    // The pool page's uploads list says so too, once the dialog is closed.
    await dialog.getByText('Close', { exact: true }).click();
    const row = page.getByRole('table', { name: 'Uploads' }).locator('tbody tr', { hasText: 'big.txt' });
    await expect.poll(() => row.textContent()).toContain('cancelled');
  }, 60_000);
});

describe('console: the page itself', () => {
  it('declares a favicon (no 404 for /favicon.ico in every tab)', async () => {
    const built = await buildConsole();
    try {
      const { readFile } = await import('node:fs/promises');
      const html = await readFile(`${built.dir}/index.html`, 'utf8');
      expect(html).toMatch(/<link\s+rel="icon"\s+href="data:image\/svg\+xml,[^"]+"/);
    } finally {
      await built.remove();
    }
  }, 60_000);
});
