import { useEffect, useState } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { ConversationJson, EnrollmentJson } from '../../../../src/modules/conductor/model.ts';
import { api } from '../../api.ts';
import { href } from '../../router.ts';
import { ErrorBanner, Field, TableHead } from '../../ui.tsx';
import { numberOf, walkDraft } from './tree.ts';

/** Sends the trigger (or any) event for a contact: a test run, through the same API as the shop. */
export function TestEvent({ conversation }: { conversation: ConversationJson }) {
  const queryClient = useQueryClient();
  const [type, setType] = useState(conversation.trigger.event);
  const [email, setEmail] = useState('');
  useEffect(() => setType(conversation.trigger.event), [conversation.trigger.event]);
  const send = useMutation({
    mutationFn: () => api.sendEvent({ type: type.trim(), email: email.trim() }),
    onSuccess: () => {
      queryClient.invalidateQueries({ queryKey: ['enrollments', conversation.id] });
      queryClient.invalidateQueries({ queryKey: ['outbox'] });
    },
  });
  return (
    <div className="panel" aria-label="Send test event">
      <h2>Send test event</h2>
      <form
        className="form"
        onSubmit={(e) => {
          e.preventDefault();
          send.mutate();
        }}
      >
        <Field label="Event type">
          {(id, d) => <input id={id} aria-describedby={d} required value={type} onChange={(e) => setType(e.target.value)} />}
        </Field>
        <Field label="Contact email" hint="Created if new.">
          {(id, d) => <input id={id} aria-describedby={d} type="email" required value={email} onChange={(e) => setEmail(e.target.value)} />}
        </Field>
        <div className="actions">
          <button type="submit" disabled={send.isPending}>
            Send event
          </button>
        </div>
      </form>
      <ErrorBanner error={send.error} />
      {send.data ? (
        <p role="status">
          {send.data.enrolled.includes(conversation.id)
            ? 'The contact entered this conversation.'
            : 'The contact did not enter this conversation (not live, or already in a run).'}{' '}
          <a href={href('contacts', send.data.contactId)}>Open the contact</a> · <a href={href('outbox')}>Outbox</a>
        </p>
      ) : null}
    </div>
  );
}

/** Runs of the conversation and, per step, how many runs reached each outcome. */
export function Runs({ conversation }: { conversation: ConversationJson }) {
  const runs = useQuery({
    queryKey: ['enrollments', conversation.id],
    queryFn: () => api.enrollments(conversation.id),
    refetchInterval: 5000,
  });
  const perStep = new Map<string, Record<string, number>>();
  for (const e of runs.data ?? ([] as EnrollmentJson[])) {
    for (const s of e.steps) {
      const counts = perStep.get(s.stepId) ?? {};
      const outcome = s.branch ? `${s.outcome} (${s.branch})` : s.outcome;
      counts[outcome] = (counts[outcome] ?? 0) + 1;
      perStep.set(s.stepId, counts);
    }
  }
  return (
    <div className="panel" aria-label="Runs">
      <h2>Runs</h2>
      <ErrorBanner error={runs.error} />
      {runs.data?.length === 0 ? <p className="muted">No runs yet: publish, then send a test event with the trigger.</p> : null}
      {runs.data?.length ? (
        <>
          <p>
            {runs.data.length} run(s):{' '}
            {Object.entries(runs.data.reduce<Record<string, number>>((acc, e) => ({ ...acc, [e.status]: (acc[e.status] ?? 0) + 1 }), {}))
              .map(([k, v]) => `${v} ${k}`)
              .join(', ')}
          </p>
          <table className="table compact" aria-label="Per-step counts">
            <TableHead columns={['Step', 'Outcomes']} />
            <tbody>
              {walkDraft(conversation.steps).map(({ step: s, path }) => (
                <tr key={s.id}>
                  <td>
                    {numberOf(conversation, path)}. {s.name}
                  </td>
                  <td>
                    {Object.entries(perStep.get(s.id ?? '') ?? {})
                      .map(([k, v]) => `${k}: ${v}`)
                      .join(', ') || '—'}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      ) : null}
    </div>
  );
}
