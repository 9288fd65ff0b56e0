import { useState } from 'react';
import { api, ApiError, type Session } from '../api.ts';
import { ErrorBanner, Field } from '../ui.tsx';

/**
 * Sign-in: the pasted token goes once to POST /v1/session, which answers with an HttpOnly cookie.
 * The token lives only in this form's state and is dropped after the exchange.
 */
export function SignIn({ onSignedIn, failed }: { onSignedIn: (s: Session) => void; failed?: unknown }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  return (
    <main className="signin">
      <h1>Couponflow</h1>
      <p className="muted">
        Sign in with an API token. The first start of the server printed the admin token; <code>couponflow token create</code> makes more.
      </p>
      <ErrorBanner error={failed} />
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          setBusy(true);
          setError(undefined);
          try {
            const session = await api.signIn(token.trim());
            setToken('');
            onSignedIn(session);
            // Sent here from a page that needs a session (the API docs): back to it.
            const next = new URLSearchParams(window.location.search).get('next');
            if (next?.startsWith('/') && !next.startsWith('//')) window.location.assign(next);
          } catch (err) {
            setError(err instanceof ApiError && err.status === 401 ? 'This token is not valid.' : err instanceof Error ? err.message : String(err));
          } finally {
            setBusy(false);
          }
        }}
      >
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
      </form>
    </main>
  );
}
