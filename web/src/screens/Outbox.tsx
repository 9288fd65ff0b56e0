import { useState } from 'react';
import { Pager, useCursorPages } from '../paging.tsx';
import { useQuery } from '@tanstack/react-query';
import { api } from '../api.ts';
import { href } from '../router.ts';
import { Badge, Empty, ErrorBanner, fmtDateTime, Loading, OneFieldForm } from '../ui.tsx';
import { mailDetail } from './contacts/contactApi.ts';
import { MailHeaders } from './outbox/MailHeaders.tsx';

/**
 * Mail HTML is untrusted: it is shown in an iframe with an empty sandbox (no scripts, no forms, a
 * unique origin that cannot reach the console or its cookie).
 */
export function MailFrame({ html, title }: { html: string; title: string }) {
  return <iframe className="mail-frame" title={title} sandbox="" referrerPolicy="no-referrer" srcDoc={html} />;
}

export function OutboxScreen({ mailId }: { mailId: string | undefined }) {
  const [to, setTo] = useState('');
  const [filter, setFilter] = useState('');
  const pages = useCursorPages();
  const cursor = pages.cursor;
  const list = useQuery({
    queryKey: ['outbox', filter, cursor],
    queryFn: () => api.outbox(filter || undefined, cursor),
    refetchInterval: 5000,
  });
  return (
    <section>
      <div className="page-head">
        <h1>Outbox</h1>
        <a className="button" href={href('suppressions')}>
          Suppressions
        </a>
      </div>
      <p className="muted">
        Every mail Couponflow sends: messages of conversations and pool notifications. Without SMTP they are kept here, like a local mail
        catcher.
      </p>
      <OneFieldForm
        role="search"
        label="Recipient"
        type="search"
        placeholder="name@example.com"
        value={to}
        onChange={setTo}
        button="Filter"
        onSubmit={() => {
          pages.reset();
          setFilter(to.trim());
        }}
      />
      <ErrorBanner error={list.error} />
      <div className="columns mail">
        <div>
          {list.isPending ? <Loading /> : null}
          {list.data?.items.length === 0 ? (
            <Empty title="No mail yet">
              Mail appears here when a conversation sends a message or a pool falls to its threshold. Send a test event from a live
              conversation to see one.
            </Empty>
          ) : null}
          {list.data?.items.length ? (
            <ul className="mail-list" aria-label="Mail">
              {list.data.items.map((m) => (
                <li key={m.id} aria-current={m.id === mailId ? 'true' : undefined}>
                  <a href={href('outbox', m.id)}>
                    <span className="subject">{m.subject}</span>
                    <span className="muted">
                      to {m.to} · {fmtDateTime(m.createdAt)}
                    </span>
                  </a>
                  <span>
                    <Badge tone={m.kind === 'message' ? 'info' : 'muted'}>{m.kind}</Badge>{' '}
                    <Badge tone={m.status === 'sent' ? 'ok' : m.status === 'failed' ? 'bad' : 'warn'}>{m.status}</Badge>
                  </span>
                </li>
              ))}
            </ul>
          ) : null}
          <Pager pages={pages} nextCursor={list.data?.nextCursor} labels={['Newer', 'Older']} />
        </div>
        <div>{mailId ? <MailView mailId={mailId} /> : <p className="muted">Pick a mail to read it.</p>}</div>
      </div>
    </section>
  );
}

function MailView({ mailId }: { mailId: string }) {
  const mail = useQuery({ queryKey: ['mail', mailId], queryFn: () => mailDetail(mailId) });
  const [part, setPart] = useState<'html' | 'text'>('html');
  if (mail.isPending) return <Loading />;
  if (!mail.data) return <ErrorBanner error={mail.error} />;
  const m = mail.data;
  return (
    <article className="panel" aria-label="Mail">
      <h2>{m.subject}</h2>
      <dl className="kv">
        <div>
          <dt>From</dt>
          <dd>
            {m.from.name} &lt;{m.from.email}&gt;
          </dd>
        </div>
        <div>
          <dt>To</dt>
          <dd>{m.to}</dd>
        </div>
        <div>
          <dt>Created</dt>
          <dd>{fmtDateTime(m.createdAt)}</dd>
        </div>
        <div>
          <dt>Status</dt>
          <dd>
            <Badge tone={m.status === 'sent' ? 'ok' : m.status === 'failed' ? 'bad' : 'warn'}>{m.status}</Badge>
            {m.transport === 'smtp'
              ? ` after ${m.attempts} attempt${m.attempts === 1 ? '' : 's'}`
              : ' (kept here: no SMTP server configured)'}
            {m.sentAt ? ` · ${fmtDateTime(m.sentAt)}` : ''}
          </dd>
        </div>
        <div>
          <dt>SMTP reply</dt>
          <dd>
            <code data-testid="smtp-reply">{m.smtpReply ?? (m.transport === 'smtp' ? 'none yet' : 'none (not sent over SMTP)')}</code>
          </dd>
        </div>
      </dl>
      <MailHeaders mail={m} />
      <div role="tablist" aria-label="Mail part" className="tabs">
        <button type="button" role="tab" aria-selected={part === 'html'} onClick={() => setPart('html')}>
          HTML
        </button>
        <button type="button" role="tab" aria-selected={part === 'text'} onClick={() => setPart('text')} disabled={!m.text}>
          Text
        </button>
      </div>
      {part === 'html' ? <MailFrame html={m.html} title={`Mail: ${m.subject}`} /> : <pre className="mail-text">{m.text}</pre>}
    </article>
  );
}
