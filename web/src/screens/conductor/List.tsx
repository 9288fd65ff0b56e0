import { useQuery } from '@tanstack/react-query';
import { api } from '../../api.ts';
import { href } from '../../router.ts';
import { Badge, Empty, ErrorBanner, Loading } from '../../ui.tsx';
import { FrequencyCapPanel } from './FrequencyCap.tsx';

export const statusTone = { draft: 'muted', live: 'ok', paused: 'warn' } as const;

/** The conversations, with how many runs entered each and the mail they sent. */
export function ConductorScreen() {
  const list = useQuery({ queryKey: ['conversations'], queryFn: api.conversations });
  return (
    <section>
      <div className="page-head">
        <h1>Conductor</h1>
        <a className="button primary" href={href('conversations', 'new')}>
          New conversation
        </a>
      </div>
      <p className="muted">
        Conversations are automated journeys: a trigger event starts a run, steps wait, hand out coupon codes and send messages.
      </p>
      <ErrorBanner error={list.error} />
      {list.isPending ? <Loading /> : null}
      {list.data?.length === 0 ? (
        <Empty title="No conversations yet">
          Click “New conversation”, add an action step that assigns a coupon code, then the message step that shows it.
        </Empty>
      ) : null}
      {list.data?.length ? (
        <table className="table" aria-label="Conversations">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Status</th>
              <th scope="col">Trigger</th>
              <th scope="col" className="num">
                Version
              </th>
              <th scope="col" className="num">
                Steps
              </th>
              <th scope="col" className="num">
                Entered
              </th>
              <th scope="col" className="num">
                Messages sent
              </th>
            </tr>
          </thead>
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
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      <FrequencyCapPanel />
    </section>
  );
}
