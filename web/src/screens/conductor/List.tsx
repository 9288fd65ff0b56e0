import { useState } from 'react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from '../../api.ts';
import type { ConversationJson } from '../../../../src/modules/conductor/model.ts';
import { href } from '../../router.ts';
import { Badge, Empty, ErrorBanner, Loading, TableHead } from '../../ui.tsx';
import { RemoveButton } from '../Removal.tsx';
import { FrequencyCapPanel } from './FrequencyCap.tsx';

export const statusTone = { draft: 'muted', live: 'ok', paused: 'warn' } as const;

/** The conversations, with how many runs entered each and the mail they sent; archived ones apart. */
export function ConductorScreen() {
  const [archived, setArchived] = useState(false);
  const queryClient = useQueryClient();
  const list = useQuery({
    queryKey: ['conversations', archived ? 'archived' : 'current'],
    queryFn: archived ? api.archivedConversations : api.conversations,
  });
  const refresh = () => queryClient.invalidateQueries({ queryKey: ['conversations'] });
  return (
    <section>
      <div className="page-head">
        <h1>Conductor</h1>
        <button type="button" className="ghost" aria-pressed={archived} onClick={() => setArchived(!archived)}>
          {archived ? 'Show current' : 'Show archived'}
        </button>
        <a className="button primary" href={href('conversations', 'new')}>
          New conversation
        </a>
      </div>
      <p className="muted">
        {archived
          ? 'Archived conversations enroll nobody; runs that were in progress finish on their version.'
          : 'Conversations are automated journeys: a trigger event starts a run, steps wait, hand out coupon codes and send messages.'}
      </p>
      <ErrorBanner error={list.error} />
      {list.isPending ? <Loading /> : null}
      {list.data?.length === 0 ? (
        archived ? (
          <Empty title="No archived conversations" />
        ) : (
          <Empty title="No conversations yet">
            Click “New conversation”, add an action step that assigns a coupon code, then the message step that shows it.
          </Empty>
        )
      ) : null}
      {list.data?.length ? (
        <table className="table" aria-label={archived ? 'Archived conversations' : 'Conversations'}>
          <TableHead
            columns={[
              'Name',
              'Status',
              'Trigger',
              { label: 'Version', num: true },
              { label: 'Steps', num: true },
              { label: 'Entered', num: true },
              { label: 'Messages sent', num: true },
              { label: 'Delete or archive', hidden: true },
            ]}
          />
          <tbody>
            {list.data.map((c) => (
              <tr key={c.id}>
                <td>
                  <a href={href('conversations', c.id)}>{c.name}</a>
                </td>
                <td>
                  <Badge tone={statusTone[c.status] ?? 'muted'}>{c.status}</Badge>
                </td>
                <td>
                  <code>{c.trigger.event}</code>
                </td>
                <td className="num">{c.version ?? '—'}</td>
                <td className="num">{c.steps.length}</td>
                <td className="num">{c.steps[0]?.id ? (c.stepCounts[c.steps[0].id]?.entered ?? 0) : 0}</td>
                <td className="num">{Object.values(c.stepCounts).reduce((n, k) => n + k.messagesSent, 0)}</td>
                <td>
                  <Remove conversation={c} onDone={refresh} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      <FrequencyCapPanel />
    </section>
  );
}

/** Delete for a draft never published; Archive for a published one (Unarchive when archived). */
function Remove({ conversation: c, onDone }: { conversation: ConversationJson; onDone: () => void }) {
  if (c.archivedAt)
    return (
      <RemoveButton
        label={`Unarchive ${c.name}`}
        confirm={`Unarchive ${c.name}?${c.status === 'live' ? ' It enrolls again.' : ''}`}
        run={() => api.unarchiveConversation(c.id)}
        onDone={onDone}
      />
    );
  if (c.version === 0)
    return (
      <RemoveButton
        label={`Delete ${c.name}`}
        confirm={`Delete the draft ${c.name}? It was never published.`}
        run={() => api.deleteConversation(c.id)}
        onDone={onDone}
      />
    );
  return (
    <RemoveButton
      label={`Archive ${c.name}`}
      confirm={`Archive ${c.name}? It enrolls nobody any more; runs in progress finish.`}
      run={() => api.archiveConversation(c.id)}
      onDone={onDone}
    />
  );
}
