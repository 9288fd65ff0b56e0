import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, request, type ContactWithRuns } from '../../api.ts';
import { href } from '../../router.ts';
import { Badge, ErrorBanner, Loading } from '../../ui.tsx';
import { suppressionsApi } from './contactApi.ts';
import { FieldValues } from './FieldValues.tsx';
import { Journeys } from './Journeys.tsx';

/** One contact: status and suppression, field values (editable), journeys with names and links, codes. */
export function ContactScreen({ contactId }: { contactId: string }) {
  const contact = useQuery({ queryKey: ['contact', contactId], queryFn: () => api.contact(contactId) });
  const session = useQuery({ queryKey: ['session'], queryFn: api.session, retry: false, staleTime: Infinity });
  if (contact.isPending) return <Loading />;
  if (!contact.data) return <ErrorBanner error={contact.error} />;
  const c = contact.data;
  const timeZone = session.data?.timeZone ?? 'UTC';
  return (
    <section>
      <p className="crumbs">
        <a href={href('contacts')}>Contacts</a>
      </p>
      <div className="page-head">
        <h1>{c.email}</h1>
        {c.status === 'subscribed' ? <Badge tone="ok">subscribed</Badge> : <Badge tone="muted">unsubscribed</Badge>}
      </div>
      <Subscription contact={c} />
      <h2>Fields</h2>
      <FieldValues contact={c} timeZone={timeZone} />
      <Journeys contact={c} timeZone={timeZone} />
      <Privacy contact={c} />
    </section>
  );
}

/**
 * Unsubscribe sets the contact `unsubscribed` and suppresses the address (`unsubscribed`), as the
 * link in a mail does; resubscribe undoes both. The suppression (any reason) is shown here.
 */
function Subscription({ contact }: { contact: ContactWithRuns }) {
  const queryClient = useQueryClient();
  const suppression = useQuery({ queryKey: ['suppression', contact.email], queryFn: () => suppressionsApi.of(contact.email) });
  const refresh = () => {
    void queryClient.invalidateQueries({ queryKey: ['contact', contact.id] });
    void queryClient.invalidateQueries({ queryKey: ['suppression', contact.email] });
    void queryClient.invalidateQueries({ queryKey: ['suppressions'] });
  };
  const unsubscribe = useMutation({
    mutationFn: async () => {
      await api.upsertContact({ email: contact.email, status: 'unsubscribed' });
      if (!suppression.data) await suppressionsApi.add(contact.email, 'unsubscribed');
    },
    onSettled: refresh,
  });
  const resubscribe = useMutation({
    mutationFn: async () => {
      await api.upsertContact({ email: contact.email, status: 'subscribed' });
      if (suppression.data) await suppressionsApi.remove(contact.email);
    },
    onSettled: refresh,
  });
  const s = suppression.data;
  return (
    <div className="panel" aria-label="Subscription">
      <p>
        {s ? (
          <>
            <Badge tone="bad">suppressed: {s.reason}</Badge> since {new Date(s.createdAt).toISOString().slice(0, 10)}
            {s.detail ? <span className="muted"> ({s.detail})</span> : null}. No marketing mail goes to this address.
          </>
        ) : suppression.isPending ? (
          'Checking the suppression list…'
        ) : (
          <>
            Not suppressed: marketing mail may go to this address
            {contact.status === 'unsubscribed' ? ' (but the contact is unsubscribed)' : ''}.
          </>
        )}
      </p>
      <div className="actions">
        {contact.status === 'subscribed' ? (
          <button type="button" onClick={() => unsubscribe.mutate()} disabled={unsubscribe.isPending}>
            Unsubscribe
          </button>
        ) : null}
        {contact.status === 'unsubscribed' || s ? (
          <button type="button" onClick={() => resubscribe.mutate()} disabled={resubscribe.isPending}>
            Resubscribe
          </button>
        ) : null}
      </div>
      <ErrorBanner error={unsubscribe.error ?? resubscribe.error ?? suppression.error} />
    </div>
  );
}

/** GDPR: Export (everything held, as a JSON file) and Erase (after a confirmation; codes stay used, unlinked). */
function Privacy({ contact }: { contact: ContactWithRuns }) {
  const queryClient = useQueryClient();
  const exportIt = useMutation({
    mutationFn: async () => {
      const data = await request<unknown>('GET', `/v1/contacts/${encodeURIComponent(contact.id)}/export`);
      const link = document.createElement('a');
      link.href = URL.createObjectURL(new Blob([JSON.stringify(data, null, 2)], { type: 'application/json' }));
      link.download = `contact-${contact.id}.json`;
      link.click();
    },
  });
  const erase = useMutation({
    mutationFn: () => request<unknown>('DELETE', `/v1/contacts/${encodeURIComponent(contact.id)}`),
    onSuccess: () => {
      // The person shows in many lists (contacts, assignments, codes, mails): none keeps a stale copy.
      queryClient.removeQueries();
      window.location.assign(href('contacts'));
    },
  });
  const confirmErase = () => {
    const sure = window.confirm(
      `Erase ${contact.email}? Profile, field values, events, runs' personal data and mails are deleted; codes and redemptions stay, unlinked. This cannot be undone.`,
    );
    if (sure) erase.mutate();
  };
  return (
    <div className="panel" aria-label="Personal data">
      <h2>Personal data</h2>
      <div className="actions">
        <button type="button" onClick={() => exportIt.mutate()} disabled={exportIt.isPending}>
          Export
        </button>
        <button type="button" className="danger" onClick={confirmErase} disabled={erase.isPending}>
          Erase
        </button>
      </div>
      <ErrorBanner error={exportIt.error ?? erase.error} />
    </div>
  );
}
