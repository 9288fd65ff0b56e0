import { expect, it } from 'vitest';
import { describeEachEngine } from '../helpers/engines.ts';
import { useTenant } from '../helpers/fixture.ts';
import { HOST, ORIGIN, PASSWORD, activeUser, cookieOf, linkTokenFor, passwordSignIn, sessionHeaders } from './team.ts';
import { verifyPassword } from '../../src/modules/users/passwords.ts';

/** Users (README, "Team access"): invitation, one-time links, password sign-in, reset, role changes, removal, throttling. */
describeEachEngine('users', (ctx) => {
  const { app, t } = useTenant(ctx, { setupTimeoutMs: 120_000 });

  const asOwner = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: object) =>
    app.http.inject({ method, url, headers: t.auth, ...(payload && { payload }) });
  const publicPost = (url: string, payload: object) =>
    app.http.inject({ method: 'POST', url, headers: { host: HOST, origin: ORIGIN }, payload });
  const email = () => `u${Math.random().toString(36).slice(2, 10)}@example.com`;

  it('invites by email: an access mail with a one-time link valid 7 days; the link page sets a checked password; then sign-in and sign-out', async () => {
    const address = email();
    const invited = await asOwner('POST', '/v1/users', { email: address, role: 'marketer' });
    expect(invited.statusCode, invited.body).toBe(201);
    expect(invited.json()).toMatchObject({ email: address, role: 'marketer', status: 'invited', merchantIds: null });
    const mails = (await asOwner('GET', `/v1/outbox?to=${encodeURIComponent(address)}`)).json().items;
    expect(mails).toHaveLength(1);
    expect(mails[0]).toMatchObject({ kind: 'access', subject: expect.stringContaining('invited') });
    expect(mails[0].text).toContain('7 days');
    const token = await linkTokenFor(app, t.accountId, address);

    const inspected = await publicPost('/v1/password-links/inspect', { token });
    expect(inspected.json()).toMatchObject({ email: address, purpose: 'invite' });
    expect(new Date(inspected.json().expiresAt).getTime() - app.clock.now().getTime()).toBe(7 * 86_400_000);

    // Not signed in yet: no password.
    expect((await publicPost('/v1/session', { email: address, password: PASSWORD })).statusCode).toBe(401);
    for (const [password, why] of [
      ['short1234', 'at least 10'],
      ['password123', 'common'],
      ['QWERTYUIOP', 'common'],
      [address, 'email'],
    ] as const) {
      const res = await publicPost('/v1/password-links/use', { token, password });
      expect(res.statusCode, password).toBe(422);
      expect(res.json().error.message).toContain(why);
    }
    expect((await publicPost('/v1/password-links/use', { token, password: PASSWORD })).statusCode).toBe(204);

    const signIn = await publicPost('/v1/session', { email: address.toUpperCase(), password: PASSWORD });
    expect(signIn.statusCode, signIn.body).toBe(201);
    expect(signIn.json()).toMatchObject({ role: 'marketer', via: 'session', actor: { type: 'user', name: address } });
    const headers = sessionHeaders(cookieOf(signIn));
    expect((await app.http.inject({ method: 'GET', url: '/v1/session', headers })).json()).toMatchObject({ role: 'marketer' });
    const users = (await asOwner('GET', '/v1/users')).json().items;
    expect(users.find((u: { email: string }) => u.email === address)).toMatchObject({ status: 'active' });
    expect((await app.http.inject({ method: 'DELETE', url: '/v1/session', headers })).statusCode).toBe(204);
    expect((await app.http.inject({ method: 'GET', url: '/v1/session', headers })).statusCode).toBe(401);
  });

  it('stores the password as a salted scrypt hash only', async () => {
    const user = await activeUser(app, t.accountId, 'analyst');
    const rows = await ctx.database.db.selectFrom('users').select('password_hash').where('id', '=', user.id).execute();
    const hash = rows[0]!.password_hash!;
    expect(hash).toMatch(/^scrypt\$15\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    expect(hash).not.toContain(PASSWORD);
    expect(await verifyPassword(PASSWORD, hash)).toBe(true);
    expect(await verifyPassword(`${PASSWORD}!`, hash)).toBe(false);
  });

  it('a link works once, and not after it expired', async () => {
    const address = email();
    await asOwner('POST', '/v1/users', { email: address, role: 'analyst' });
    const token = await linkTokenFor(app, t.accountId, address);
    expect((await publicPost('/v1/password-links/use', { token, password: PASSWORD })).statusCode).toBe(204);
    const again = await publicPost('/v1/password-links/use', { token, password: 'another long passphrase' });
    expect(again.statusCode).toBe(404);
    expect(again.json().error.code).toBe('link_invalid');
    expect((await publicPost('/v1/password-links/inspect', { token })).statusCode).toBe(404);

    const late = email();
    await asOwner('POST', '/v1/users', { email: late, role: 'analyst' });
    const lateToken = await linkTokenFor(app, t.accountId, late);
    app.clock.advance(7 * 86_400_000 + 1);
    expect((await publicPost('/v1/password-links/use', { token: lateToken, password: PASSWORD })).json().error.code).toBe('link_invalid');
  });

  it('resets a password by mail link: single use, expiring after an hour, other sessions ended; unknown addresses get the same answer', async () => {
    const user = await activeUser(app, t.accountId, 'admin');
    const before = await passwordSignIn(app, user.email);
    const unknown = await publicPost('/v1/password-resets', { email: email() });
    const known = await publicPost('/v1/password-resets', { email: user.email });
    expect([unknown.statusCode, unknown.body]).toEqual([known.statusCode, known.body]);
    expect(known.statusCode).toBe(202);
    const token = await linkTokenFor(app, t.accountId, user.email);
    expect((await publicPost('/v1/password-links/inspect', { token })).json().purpose).toBe('reset');
    expect((await publicPost('/v1/password-links/use', { token, password: 'a brand new passphrase' })).statusCode).toBe(204);
    expect((await publicPost('/v1/password-links/use', { token, password: 'yet another passphrase' })).statusCode).toBe(404);
    expect((await app.http.inject({ method: 'GET', url: '/v1/session', headers: sessionHeaders(before) })).statusCode).toBe(401);
    expect((await publicPost('/v1/session', { email: user.email, password: PASSWORD })).statusCode).toBe(401);
    await passwordSignIn(app, user.email, 'a brand new passphrase');

    await publicPost('/v1/password-resets', { email: user.email });
    const expiring = await linkTokenFor(app, t.accountId, user.email);
    app.clock.advance(60 * 60 * 1000 + 1);
    expect((await publicPost('/v1/password-links/use', { token: expiring, password: 'too late passphrase' })).json().error.code).toBe(
      'link_invalid',
    );
  });

  it("a role change applies at the next request; a removed user's session dies at once", async () => {
    const user = await activeUser(app, t.accountId, 'marketer');
    const headers = sessionHeaders(await passwordSignIn(app, user.email));
    const createPool = () =>
      app.http.inject({
        method: 'POST',
        url: `/v1/merchants/${t.merchantId}/pools`,
        headers,
        payload: { name: `P${Math.random()}`, type: 'unique', expirationCutoffDays: 0 },
      });
    expect((await createPool()).statusCode).not.toBe(403);
    expect((await asOwner('PATCH', `/v1/users/${user.id}`, { role: 'analyst' })).json()).toMatchObject({ role: 'analyst' });
    const refused = await createPool();
    expect(refused.statusCode).toBe(403);
    expect(refused.json().error.details[0]).toMatchObject({ permission: 'pools:write' });

    expect((await asOwner('PATCH', `/v1/users/${user.id}`, { merchantIds: [t.merchantId] })).json().merchantIds).toEqual([t.merchantId]);
    expect((await asOwner('PATCH', `/v1/users/${user.id}`, { merchantIds: ['no-such-merchant'] })).statusCode).toBe(404);

    expect((await asOwner('DELETE', `/v1/users/${user.id}`)).statusCode).toBe(204);
    expect((await app.http.inject({ method: 'GET', url: '/v1/merchants', headers })).statusCode).toBe(401);
    expect((await asOwner('DELETE', `/v1/users/${user.id}`)).statusCode).toBe(404);
    expect((await publicPost('/v1/session', { email: user.email, password: PASSWORD })).statusCode).toBe(401);
  });

  it('refuses a taken address (409), bad input (4xx), and hides access mail from non-owners', async () => {
    const address = email();
    expect((await asOwner('POST', '/v1/users', { email: address, role: 'analyst' })).statusCode).toBe(201);
    const taken = await asOwner('POST', '/v1/users', { email: address.toUpperCase(), role: 'admin' });
    expect([taken.statusCode, taken.json().error.code]).toEqual([409, 'email_taken']);
    for (const payload of [
      {},
      { email: 'not-an-address', role: 'admin' },
      { email: email(), role: 'root' },
      { email: email(), role: 'admin', password: 'x' },
    ]) {
      const res = await asOwner('POST', '/v1/users', payload);
      expect(res.statusCode, JSON.stringify(payload)).toBeGreaterThanOrEqual(400);
      expect(res.statusCode).toBeLessThan(500);
    }
    const marketer = await app.services.accounts.createToken({ accountId: t.accountId, role: 'marketer' });
    const seen = await app.http.inject({
      method: 'GET',
      url: `/v1/outbox?to=${encodeURIComponent(address)}`,
      headers: { authorization: `Bearer ${marketer}` },
    });
    expect(seen.statusCode).toBe(200);
    expect(seen.json().items).toEqual([]);
  });

  it('throttles: after 5 failed sign-ins for an address within 15 minutes, 429 for 15 minutes (per address and per client address)', async () => {
    const user = await activeUser(app, t.accountId, 'analyst');
    const attempt = (address: string, password: string, remoteAddress: string) =>
      app.http.inject({
        method: 'POST',
        url: '/v1/session',
        headers: { host: HOST, origin: ORIGIN },
        payload: { email: address, password },
        remoteAddress,
      });
    for (let i = 0; i < 5; i++) expect((await attempt(user.email, 'wrong password!', `10.0.0.${i + 1}`)).statusCode).toBe(401);
    const blocked = await attempt(user.email, PASSWORD, '10.0.1.1');
    expect(blocked.statusCode).toBe(429);
    expect(blocked.json().error.code).toBe('too_many_attempts');
    expect(Number(blocked.headers['retry-after'])).toBe(15 * 60);
    app.clock.advance(14 * 60 * 1000);
    expect((await attempt(user.email, PASSWORD, '10.0.1.2')).statusCode).toBe(429);
    app.clock.advance(60 * 1000 + 1);
    expect((await attempt(user.email, PASSWORD, '10.0.1.3')).statusCode).toBe(201);

    // Per client address: five wrong guesses at five addresses from one client block that client.
    const other = await activeUser(app, t.accountId, 'analyst');
    for (let i = 0; i < 5; i++) expect((await attempt(email(), 'wrong password!', '10.9.9.9')).statusCode).toBe(401);
    expect((await attempt(other.email, PASSWORD, '10.9.9.9')).statusCode).toBe(429);
    expect((await attempt(other.email, PASSWORD, '10.9.9.10')).statusCode).toBe(201);

    // Failures spread over more than 15 minutes never add up to a block.
    const spread = await activeUser(app, t.accountId, 'analyst');
    for (let i = 0; i < 8; i++) {
      expect((await attempt(spread.email, 'wrong password!', `10.8.0.${i}`)).statusCode).toBe(401);
      app.clock.advance(4 * 60 * 1000);
    }
    expect((await attempt(spread.email, PASSWORD, '10.8.1.1')).statusCode).toBe(201);
  }, 240_000); // some 25 scrypt hashes: slow on a loaded machine
});
