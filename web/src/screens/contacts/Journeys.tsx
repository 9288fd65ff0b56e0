import { useQuery } from '@tanstack/react-query';
import { api, type ContactWithRuns } from '../../api.ts';
import { allSteps, type ConversationJson as Conversation } from '../../../../src/modules/conductor/model.ts';
import { href } from '../../router.ts';
import { Badge, ErrorBanner, fmtDateTime, TableHead } from '../../ui.tsx';
import { codesOfContact, fmtDay, type CodeStatus } from './contactApi.ts';

interface RunStep {
  stepId: string;
  outcome: string;
  at: string;
  code?: string;
  expiresAt?: string | null;
  /** The mail this step wrote (an outbox id). */
  messageId?: string;
  /** Splits and waits: the branch the run took (its name). */
  branch?: string;
}

const stepsOf = (run: ContactWithRuns['runs'][number]) => (Array.isArray(run.steps) ? (run.steps as RunStep[]) : []);
const STATUS_TONE: Record<CodeStatus, 'ok' | 'info' | 'muted' | 'warn'> = {
  available: 'muted',
  assigned: 'info',
  redeemed: 'ok',
  expired: 'warn',
};

/** The contact's runs by conversation and step names, with links to the conversation and each mail; then its codes. */
export function Journeys({ contact, timeZone }: { contact: ContactWithRuns; timeZone: string }) {
  const conversations = useQuery({ queryKey: ['conversations'], queryFn: api.conversations });
  const byId = new Map((conversations.data ?? []).map((c) => [c.id, c]));
  const stepName = (conv: Conversation | undefined, stepId: string) =>
    (conv ? allSteps(conv.steps) : []).find((s) => s.id === stepId)?.name ?? 'a step since removed';
  return (
    <>
      <h2>Journeys</h2>
      <ErrorBanner error={conversations.error} />
      {contact.runs.length === 0 ? (
        <p className="muted">Not in any conversation yet.</p>
      ) : (
        <table className="table compact" aria-label="Journeys">
          <TableHead columns={['Conversation', 'Status', 'Steps']} />
          <tbody>
            {contact.runs.map((run, i) => {
              const conv = byId.get(run.conversationId);
              return (
                <tr key={String(run.id ?? i)}>
                  <td>
                    <a href={href('conversations', run.conversationId)}>
                      {conv?.name ?? (conversations.isPending ? '…' : 'a conversation')}
                    </a>
                  </td>
                  <td>
                    {String(run.status ?? '')}
                    {run.exitReason ? <span className="muted"> ({String(run.exitReason)})</span> : null}
                  </td>
                  <td>
                    <ol className="journey">
                      {stepsOf(run).map((s, k) => (
                        <li key={k}>
                          {fmtDateTime(s.at)} — <strong>{stepName(conv, s.stepId)}</strong>: {s.outcome}
                          {s.branch ? <> → {s.branch}</> : null}
                          {s.code ? (
                            <>
                              {' '}
                              (code <code>{s.code}</code>
                              {s.expiresAt ? `, until ${fmtDay(s.expiresAt, timeZone)}` : ''})
                            </>
                          ) : null}
                          {s.messageId ? (
                            <>
                              {' '}
                              <a href={href('outbox', s.messageId)}>the mail</a>
                            </>
                          ) : null}
                        </li>
                      ))}
                    </ol>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      <Codes contact={contact} conversations={byId} timeZone={timeZone} />
    </>
  );
}

/** Each code a step handed out, with its status now (GET /v1/pools/{id}/codes?q=<email>). */
function Codes({
  contact,
  conversations,
  timeZone,
}: {
  contact: ContactWithRuns;
  conversations: Map<string, Conversation>;
  timeZone: string;
}) {
  const handed = contact.runs.flatMap((run) =>
    stepsOf(run)
      .filter((s) => s.code)
      .map((s) => {
        const conv = conversations.get(run.conversationId);
        const step = (conv ? allSteps(conv.steps) : []).find((x) => x.id === s.stepId);
        const poolId = step?.type === 'action' && step.action.type === 'assignCoupon' ? step.action.poolId : undefined;
        return { code: s.code!, poolId, expiresAt: s.expiresAt ?? null };
      }),
  );
  const poolIds = [...new Set(handed.flatMap((h) => (h.poolId ? [h.poolId] : [])))];
  const statuses = useQuery({
    queryKey: ['contact-codes', contact.id, poolIds],
    enabled: poolIds.length > 0,
    queryFn: async () => {
      const out = new Map<string, CodeStatus>();
      for (const poolId of poolIds) {
        for (const c of (await codesOfContact(poolId, contact.email)).items) out.set(`${poolId}:${c.code}`, c.status);
      }
      return out;
    },
  });
  if (handed.length === 0) return null;
  return (
    <>
      <h2>Codes</h2>
      <table className="table compact" aria-label="Codes">
        <TableHead columns={['Code', 'Expires', 'Status']} />
        <tbody>
          {handed.map((h, i) => {
            const status = h.poolId ? statuses.data?.get(`${h.poolId}:${h.code}`) : undefined;
            return (
              <tr key={i}>
                <td>
                  <code>{h.code}</code>
                </td>
                <td>{h.expiresAt ? fmtDay(h.expiresAt, timeZone) : '—'}</td>
                <td>
                  {status ? (
                    <Badge tone={STATUS_TONE[status]}>{status}</Badge>
                  ) : (
                    <span className="muted">{statuses.isFetching ? '…' : 'shared code'}</span>
                  )}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      <ErrorBanner error={statuses.error} />
    </>
  );
}
