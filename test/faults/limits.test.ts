import { expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { describeEachEngine } from '../helpers/engines.ts';
import { useTenant } from '../helpers/fixture.ts';
import { multipart } from '../helpers/multipart.ts';

/** A multipart body assembled part by part, to send what well-behaved clients never do. */
function rawMultipart(parts: ({ field: string; value: string } | { file: string; content: string })[], options: { end?: boolean } = {}) {
  const boundary = `----limits${randomBytes(6).toString('hex')}`;
  let body = '';
  for (const part of parts) {
    if ('field' in part) body += `--${boundary}\r\nContent-Disposition: form-data; name="${part.field}"\r\n\r\n${part.value}\r\n`;
    else
      body += `--${boundary}\r\nContent-Disposition: form-data; name="${part.file}"; filename="codes.txt"\r\nContent-Type: text/plain\r\n\r\n${part.content}\r\n`;
  }
  if (options.end !== false) body += `--${boundary}--\r\n`;
  return { payload: Buffer.from(body), headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
}

const LIMIT = 4096;

describeEachEngine('limits refuse, never truncate', (ctx) => {
  const { app, t } = useTenant(ctx, { config: { UPLOAD_LIMIT_BYTES: LIMIT } });

  const newPool = async () => {
    const res = await app.http.inject({
      method: 'POST',
      url: `/v1/merchants/${t.merchantId}/pools`,
      headers: t.auth,
      payload: { name: `p-${randomBytes(4).toString('hex')}`, type: 'unique' },
    });
    expect(res.statusCode).toBe(201);
    return res.json().id as string;
  };
  const send = (url: string, body: { payload: Buffer; headers: Record<string, string> }) =>
    app.http.inject({ method: 'POST', url, headers: { ...t.auth, ...body.headers }, payload: body.payload });
  const counts = async (poolId: string) =>
    (await app.http.inject({ method: 'GET', url: `/v1/pools/${poolId}`, headers: t.auth })).json().counts;
  const uploads = async (poolId: string) =>
    (await app.http.inject({ method: 'GET', url: `/v1/pools/${poolId}/uploads`, headers: t.auth })).json().items;

  /** Lines of 10 bytes: `n` of them make a file of 10·n bytes. */
  const codes = (n: number, prefix = 'C') => Array.from({ length: n }, (_, i) => `${prefix}${String(i).padStart(8, '0')}\n`).join('');

  it('refuses an upload over UPLOAD_LIMIT_BYTES whole: 413, the pool unchanged, recorded as rejected', async () => {
    const poolId = await newPool();
    const ok = await send(`/v1/pools/${poolId}/uploads`, multipart({}, { content: codes(400) })); // 4,000 bytes: under
    expect(ok.statusCode, ok.body).toBe(201);
    expect(ok.json().imported).toBe(400);

    const over = await send(`/v1/pools/${poolId}/uploads`, multipart({ onInvalid: 'skip' }, { content: codes(410, 'D') })); // 4,100 bytes
    expect(over.statusCode, over.body).toBe(413);
    expect(over.json().error).toMatchObject({ code: 'payload_too_large', message: expect.stringContaining('4,096 bytes') });
    expect(over.json().upload).toMatchObject({ status: 'rejected', imported: 0 });
    expect(await counts(poolId)).toMatchObject({ total: 400, available: 400 });
    const list = await uploads(poolId);
    expect(list.map((u: { status: string }) => u.status).sort()).toEqual(['imported', 'rejected']);
  });

  it('refuses a contacts import over the limit: 413, no contact created', async () => {
    const rows = Array.from({ length: 200 }, (_, i) => `big${String(i).padStart(5, '0')}@example.com`).join('\n');
    const csv = `email\n${rows}\n`;
    expect(csv.length).toBeGreaterThan(LIMIT);
    const res = await send('/v1/contacts/import', multipart({ onInvalid: 'skip' }, { name: 'contacts.csv', content: csv }));
    expect(res.statusCode, res.body).toBe(413);
    expect(res.json().error.code).toBe('payload_too_large');
    const first = await app.http.inject({ method: 'GET', url: '/v1/contacts?email=big00000@example.com', headers: t.auth });
    expect(first.statusCode).toBe(404);
    const list = await app.http.inject({ method: 'GET', url: '/v1/contacts?limit=10', headers: t.auth });
    expect(list.json().items.filter((c: { email: string }) => c.email.startsWith('big'))).toEqual([]);
  });

  it('takes the options in any order before the file', async () => {
    const poolId = await newPool();
    const body = rawMultipart([
      { field: 'onInvalid', value: 'skip' },
      { field: 'delimiter', value: ';' },
      { field: 'expiration', value: 'file' },
      { file: 'file', content: 'O1;2027-01-01\nO2;nope\n' },
    ]);
    const res = await send(`/v1/pools/${poolId}/uploads`, body);
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json()).toMatchObject({ imported: 1, rejected: 1, options: { onInvalid: 'skip', delimiter: ';', expiration: 'file' } });
  });

  const oddities: [string, Parameters<typeof rawMultipart>[0], { end?: boolean }, number, string, RegExp][] = [
    [
      'a second file part',
      [
        { file: 'file', content: 'S1\n' },
        { file: 'file', content: 'S2\n' },
      ],
      {},
      400,
      'second_file',
      /second file/,
    ],
    [
      'an unknown field',
      [
        { field: 'expiry', value: 'none' },
        { file: 'file', content: 'U1\n' },
      ],
      {},
      400,
      'unknown_field',
      /"expiry"/,
    ],
    [
      'an option after the file',
      [
        { file: 'file', content: 'A1\n' },
        { field: 'onInvalid', value: 'skip' },
      ],
      {},
      400,
      'field_after_file',
      /"onInvalid" came after the file/,
    ],
    ['a body cut short', [{ file: 'file', content: 'T1\nT2\n' }], { end: false }, 400, 'multipart_truncated', /ended before/],
    [
      'the same option twice',
      [
        { field: 'expiration', value: 'none' },
        { field: 'expiration', value: 'file' },
        { file: 'file', content: 'W1\n' },
      ],
      {},
      400,
      'duplicate_field',
      /"expiration"/,
    ],
  ];

  for (const [label, parts, options, status, code, message] of oddities) {
    it(`answers ${label} with ${status} ${code}, importing nothing`, async () => {
      const poolId = await newPool();
      const res = await send(`/v1/pools/${poolId}/uploads`, rawMultipart(parts, options));
      expect(res.statusCode, res.body).toBe(status);
      expect(res.json().error).toMatchObject({ code, message: expect.stringMatching(message) });
      expect(await counts(poolId)).toMatchObject({ total: 0 });
    });
  }

  it('answers the same oddities on the contacts import', async () => {
    const cases: [Parameters<typeof rawMultipart>[0], { end?: boolean }, string][] = [
      [
        [
          { field: 'onInvalid', value: 'skip' },
          { file: 'file', content: 'email\nodd1@example.com\n' },
          { file: 'file', content: 'email\nodd2@example.com\n' },
        ],
        {},
        'second_file',
      ],
      [
        [
          { field: 'status', value: 'x' },
          { file: 'file', content: 'email\nodd3@example.com\n' },
        ],
        {},
        'unknown_field',
      ],
      [
        [
          { file: 'file', content: 'email\nodd4@example.com\n' },
          { field: 'onInvalid', value: 'skip' },
        ],
        {},
        'field_after_file',
      ],
      [[{ file: 'file', content: 'email\nodd5@example.com\n' }], { end: false }, 'multipart_truncated'],
    ];
    for (const [parts, options, code] of cases) {
      const res = await send('/v1/contacts/import', rawMultipart(parts, options));
      expect(res.statusCode, `${code}: ${res.body}`).toBe(400);
      expect(res.json().error.code).toBe(code);
    }
    for (const n of [1, 2, 3, 4, 5]) {
      const res = await app.http.inject({ method: 'GET', url: `/v1/contacts?email=odd${n}@example.com`, headers: t.auth });
      expect(res.statusCode, `odd${n}`).toBe(404);
    }
  });

  it('refuses an option value longer than a field may hold (413), never cuts it', async () => {
    const poolId = await newPool();
    const res = await send(
      `/v1/pools/${poolId}/uploads`,
      rawMultipart([
        { field: 'expiresOn', value: 'x'.repeat(2000) },
        { file: 'file', content: 'L1\n' },
      ]),
    );
    expect(res.statusCode, res.body).toBe(413);
    expect(res.json().error.details).toEqual([{ field: 'expiresOn', message: 'too long' }]);
  });
});
