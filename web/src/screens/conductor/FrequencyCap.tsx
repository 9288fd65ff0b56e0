import { useEffect, useState } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { frequencyCap, type ConductorSettings } from '../../../../src/modules/conductor/model.ts';
import { request } from '../../api.ts';
import { ErrorBanner, Field } from '../../ui.tsx';

const SETTINGS = '/v1/conductor/settings';
export const conductorSettingsApi = {
  get: () => request<ConductorSettings>('GET', SETTINGS),
  put: (body: ConductorSettings) => request<ConductorSettings>('PUT', SETTINGS, body),
};

/**
 * The account's frequency cap (SPEC §5): at most so many marketing mails per contact in so many
 * days, over all conversations; a message step that would exceed it is skipped (`capped`) and the run goes on.
 */
export function FrequencyCapPanel({ compact }: { compact?: boolean }) {
  const queryClient = useQueryClient();
  const settings = useQuery({ queryKey: ['conductorSettings'], queryFn: conductorSettingsApi.get });
  const cap = settings.data?.frequencyCap ?? null;
  const [on, setOn] = useState(false);
  const [messages, setMessages] = useState('3');
  const [perDays, setPerDays] = useState('7');
  // The form follows the saved cap whenever it changes (loaded, or saved here).
  const savedKey = JSON.stringify(cap);
  useEffect(() => {
    const saved = JSON.parse(savedKey) as ConductorSettings['frequencyCap'];
    setOn(saved !== null);
    if (saved) {
      setMessages(String(saved.messages));
      setPerDays(String(saved.perDays));
    }
  }, [savedKey]);
  const wanted = on ? { messages: Number(messages), perDays: Number(perDays) } : null;
  const invalid = wanted !== null && !frequencyCap.safeParse(wanted).success;
  const save = useMutation({
    mutationFn: () => conductorSettingsApi.put({ frequencyCap: wanted }),
    onSuccess: (data) => queryClient.setQueryData(['conductorSettings'], data),
  });
  const changed = JSON.stringify(wanted) !== JSON.stringify(cap);
  return (
    <section className="panel" aria-label="Frequency cap">
      <h2>Frequency cap</h2>
      {!compact ? (
        <p className="muted">
          For the whole account: a contact gets at most so many marketing mails in so many days, over all conversations. A message step that
          would go beyond is skipped (counted as capped) and the run goes on.
        </p>
      ) : null}
      <ErrorBanner error={settings.error ?? save.error} />
      <form
        className="form inline"
        onSubmit={(e) => {
          e.preventDefault();
          if (!invalid) save.mutate();
        }}
      >
        <label className="check">
          <input type="checkbox" checked={on} onChange={(e) => setOn(e.target.checked)} disabled={!settings.data} /> Limit the mail per
          contact
        </label>
        {on ? (
          <>
            <Field label="At most (mails)" error={invalid ? 'Whole numbers: 1 to 1000 mails in 1 to 365 days.' : undefined}>
              {(id, d) => (
                <input id={id} aria-describedby={d} type="number" min={1} value={messages} onChange={(e) => setMessages(e.target.value)} />
              )}
            </Field>
            <Field label="Per (days)">
              {(id, d) => (
                <input id={id} aria-describedby={d} type="number" min={1} value={perDays} onChange={(e) => setPerDays(e.target.value)} />
              )}
            </Field>
          </>
        ) : null}
        <div className="actions">
          <button type="submit" disabled={!settings.data || !changed || invalid || save.isPending}>
            {changed ? 'Save cap' : 'Cap saved'}
          </button>
        </div>
      </form>
    </section>
  );
}
