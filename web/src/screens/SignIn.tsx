import { useState } from 'react';
import { api, ApiError, request, type Session } from '../api.ts';
import { ErrorBanner, Field, PasswordField } from '../ui.tsx';
import { teamApi } from './team/api.ts';

type Mode = 'password' | 'token' | 'forgot';

const messageOf = (err: unknown, invalid: string) =>
  err instanceof ApiError && err.status === 401
    ? invalid
    : err instanceof ApiError && err.status === 429
      ? err.message
      : err instanceof Error
        ? err.message
        : String(err);

/**
 * Sign-in: a user's email and password, or (for automation people) an API token, each sent once
 * to POST /v1/session, which answers with an HttpOnly cookie. Secrets live only in this form's
 * state and are dropped after the exchange.
 */
/** Sent here from a page that needs a session (the API docs): back to it after sign-in. */
function goNext() {
  const next = new URLSearchParams(window.location.search).get('next');
  if (next?.startsWith('/') && !next.startsWith('//')) window.location.assign(next);
}

export function SignIn({ onSignedIn, failed }: { onSignedIn: (s: Session) => void; failed?: unknown }) {
  const [mode, setMode] = useState<Mode>('password');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | undefined>();
  const [sent, setSent] = useState(false);
  const [busy, setBusy] = useState(false);

  const run = async (fn: () => Promise<void>, invalid: string) => {
    setBusy(true);
    setError(undefined);
    try {
      await fn();
    } catch (err) {
      setError(messageOf(err, invalid));
    } finally {
      setBusy(false);
    }
  };
  const switchTo = (next: Mode) => () => {
    setMode(next);
    setError(undefined);
    setSent(false);
  };

  return (
    <main className="signin">
      <h1>Couponflow</h1>
      <ErrorBanner error={failed} />
      {mode === 'password' ? (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            void run(async () => {
              const session = await request<Session>('POST', '/v1/session', { email: email.trim(), password });
              setPassword('');
              onSignedIn(session);
              goNext();
            }, 'This email address and password do not match.');
          }}
        >
          <Field label="Email">
            {(id, d) => (
              <input
                id={id}
                aria-describedby={d}
                type="email"
                autoComplete="username"
                required
                value={email}
                onChange={(e) => setEmail(e.target.value)}
                autoFocus
              />
            )}
          </Field>
          <PasswordField label="Password" error={error} autoComplete="current-password" value={password} onChange={setPassword} />
          <button type="submit" className="primary" disabled={busy || !email.trim() || !password}>
            {busy ? 'Signing in…' : 'Sign in'}
          </button>
          <p className="muted">
            <button type="button" className="ghost" onClick={switchTo('forgot')}>
              Forgot your password?
            </button>{' '}
            <button type="button" className="ghost" onClick={switchTo('token')}>
              Use an API token instead
            </button>
          </p>
        </form>
      ) : null}
      {mode === 'forgot' ? (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            void run(async () => {
              await teamApi.requestReset(email.trim());
              setSent(true);
            }, 'Try again.');
          }}
        >
          <p className="muted">We mail a link to set a new password (valid one hour, once).</p>
          <Field label="Email" error={error}>
            {(id, d) => (
              <input
                id={id}
                aria-describedby={d}
                type="email"
                required
                value={email}
                onChange={(e) => setEmail(e.target.value)}
                autoFocus
              />
            )}
          </Field>
          {sent ? <p role="status">If this address has an account, a link is on its way.</p> : null}
          <button type="submit" className="primary" disabled={busy || !email.trim()}>
            Send the link
          </button>
          <p className="muted">
            <button type="button" className="ghost" onClick={switchTo('password')}>
              Back to sign-in
            </button>
          </p>
        </form>
      ) : null}
      {mode === 'token' ? (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            void run(async () => {
              const session = await api.signIn(token.trim());
              setToken('');
              onSignedIn(session);
              goNext();
            }, 'This token is not valid.');
          }}
        >
          <p className="muted">
            The first start of the server printed the admin token; <code>couponflow token create</code> and the Tokens screen make more.
          </p>
          <Field label="API token" error={error}>
            {(id, describedBy) => (
              <input
                id={id}
                aria-describedby={describedBy}
                type="password"
                autoComplete="off"
                spellCheck={false}
                required
                value={token}
                onChange={(e) => setToken(e.target.value)}
                placeholder="cf_…"
                autoFocus
              />
            )}
          </Field>
          <button type="submit" className="primary" disabled={busy || !token.trim()}>
            {busy ? 'Signing in…' : 'Sign in'}
          </button>
          <p className="muted">
            <button type="button" className="ghost" onClick={switchTo('password')}>
              Use email and password instead
            </button>
          </p>
        </form>
      ) : null}
    </main>
  );
}
