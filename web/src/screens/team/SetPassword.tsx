import { useState } from 'react';
import { useMutation, useQuery } from '@tanstack/react-query';
import { ApiError } from '../../api.ts';
import { ErrorBanner, Loading, PasswordField } from '../../ui.tsx';
import { passwordProblem, PASSWORD_MIN_LENGTH } from '../../../../src/modules/users/model.ts';
import { teamApi } from './api.ts';

/**
 * The one-time link's page (#/set-password/<token>, from an invitation or a reset mail): shows the
 * address, takes a new password (checked here with the server's own rule, and again there).
 */
export function SetPasswordScreen({ token }: { token: string }) {
  const link = useQuery({ queryKey: ['link', token], queryFn: () => teamApi.inspectLink(token), retry: false, staleTime: Infinity });
  const [password, setPassword] = useState('');
  const [again, setAgain] = useState('');
  const save = useMutation({ mutationFn: () => teamApi.setPassword(token, password) });
  const problem = password ? passwordProblem(password, link.data?.email) : null;
  const mismatch = again && again !== password ? 'the two passwords differ' : undefined;
  const invalidLink = link.error instanceof ApiError && link.error.code === 'link_invalid';

  return (
    <main className="signin">
      <h1>Couponflow</h1>
      {link.isPending ? <Loading /> : null}
      {invalidLink ? (
        <p role="alert">This link is not valid any more: it was used already or it expired. Ask for a new one from the sign-in page.</p>
      ) : (
        <ErrorBanner error={link.error} />
      )}
      {save.isSuccess ? (
        <p role="status">
          Your password is set. <a href="#/">Sign in</a>
        </p>
      ) : null}
      {link.data && !save.isSuccess ? (
        <form
          className="form"
          onSubmit={(e) => {
            e.preventDefault();
            if (!problem && !mismatch) save.mutate();
          }}
        >
          <p className="muted">
            {link.data.purpose === 'invite' ? 'Welcome! Choose the password' : 'Choose a new password'} for{' '}
            <strong>{link.data.email}</strong> (at least {PASSWORD_MIN_LENGTH} characters; a long phrase is good).
          </p>
          <PasswordField
            label="New password"
            error={problem ?? undefined}
            autoComplete="new-password"
            value={password}
            onChange={setPassword}
            autoFocus
          />
          <PasswordField label="Repeat it" error={mismatch} autoComplete="new-password" value={again} onChange={setAgain} />
          <ErrorBanner error={save.error} />
          <button type="submit" className="primary" disabled={!password || !!problem || again !== password || save.isPending}>
            {save.isPending ? 'Saving…' : 'Set password'}
          </button>
        </form>
      ) : null}
    </main>
  );
}
