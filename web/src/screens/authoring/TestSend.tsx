import { useState } from 'react';
import { useMutation } from '@tanstack/react-query';
import { fieldErrors } from '../../api.ts';
import { href } from '../../router.ts';
import { ErrorBanner, Field } from '../../ui.tsx';
import { testSend } from '../contacts/contactApi.ts';

const MAX = 10;
const addresses = (text: string) => [
  ...new Set(
    text
      .split(/[\s,;]+/)
      .map((a) => a.trim())
      .filter(Boolean),
  ),
];

/**
 * Test send (POST /v1/messages/{id}/test): up to 10 addresses, rendered for a chosen contact or a
 * sample one; empty coupon fields show TEST-CODE, no code is assigned, no contact changes.
 */
export function TestSendPanel({ messageId }: { messageId: string }) {
  const [to, setTo] = useState('');
  const [who, setWho] = useState<'sample' | 'contact'>('sample');
  const [contactEmail, setContactEmail] = useState('');
  const list = addresses(to);
  const tooMany = list.length > MAX;
  const send = useMutation({
    mutationFn: async () => ({
      to: list,
      ...(await testSend(messageId, { to: list, ...(who === 'contact' && contactEmail.trim() ? { email: contactEmail.trim() } : {}) })),
    }),
  });
  const errors = fieldErrors(send.error);
  return (
    <div className="panel" aria-label="Test send">
      <h2>Test send</h2>
      <form
        className="form"
        onSubmit={(e) => {
          e.preventDefault();
          if (list.length && !tooMany) send.mutate();
        }}
      >
        <Field
          label="Send to"
          error={tooMany ? `At most ${MAX} addresses (${list.length} given).` : errors.to}
          hint="Up to 10 addresses, separated by commas or spaces."
        >
          {(id, d) => (
            <input
              id={id}
              aria-describedby={d}
              type="text"
              value={to}
              onChange={(e) => setTo(e.target.value)}
              placeholder="me@shop.example, team@shop.example"
            />
          )}
        </Field>
        <Field label="Render for">
          {(id, d) => (
            <select id={id} aria-describedby={d} value={who} onChange={(e) => setWho(e.target.value as 'sample' | 'contact')}>
              <option value="sample">a sample contact</option>
              <option value="contact">a contact…</option>
            </select>
          )}
        </Field>
        {who === 'contact' ? (
          <Field label="Contact email" error={errors.email ?? errors.contactId}>
            {(id, d) => (
              <input
                id={id}
                aria-describedby={d}
                type="email"
                value={contactEmail}
                onChange={(e) => setContactEmail(e.target.value)}
                placeholder="contact@example.com"
              />
            )}
          </Field>
        ) : null}
        <div className="actions">
          <button type="submit" disabled={!list.length || tooMany || send.isPending || (who === 'contact' && !contactEmail.trim())}>
            Send test
          </button>
        </div>
      </form>
      <ErrorBanner error={send.error && !Object.keys(errors).length ? send.error : undefined} />
      {send.data ? (
        <p role="status">
          Sent {send.data.mailIds.length} test mail{send.data.mailIds.length === 1 ? '' : 's'} (subject “[Test] …”):{' '}
          {send.data.mailIds.map((id, i) => (
            <span key={id}>
              {i ? ', ' : ''}
              <a href={href('outbox', id)}>{send.data.to[i] ?? 'mail'}</a>
            </span>
          ))}
          .
        </p>
      ) : null}
    </div>
  );
}
