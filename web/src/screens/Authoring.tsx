import { useRef, useState } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, ApiError, fieldErrors, type Message, type MessageInput, type Rendered, type TemplateProblem } from '../api.ts';
import type { TemplateField } from '../../../src/modules/messages/model.ts';
import { href, navigate } from '../router.ts';
import { Empty, ErrorBanner, Field, fmtDateTime, Loading, TableHead } from '../ui.tsx';
import { MailFrame } from './Outbox.tsx';
import { TestSendPanel } from './authoring/TestSend.tsx';
import { RemoveButton } from './Removal.tsx';

export function AuthoringScreen() {
  const queryClient = useQueryClient();
  const messages = useQuery({ queryKey: ['messages'], queryFn: api.messages });
  return (
    <section>
      <div className="page-head">
        <h1>Authoring</h1>
        <a className="button primary" href={href('messages', 'new')}>
          New message
        </a>
      </div>
      <ErrorBanner error={messages.error} />
      {messages.isPending ? <Loading /> : null}
      {messages.data?.length === 0 ? (
        <Empty title="No messages yet">
          Click “New message”, write the email and insert the coupon fields from the personalization panel.
        </Empty>
      ) : null}
      {messages.data?.length ? (
        <table className="table" aria-label="Messages">
          <TableHead columns={['Name', 'Subject', 'From', 'Updated', { label: 'Delete', hidden: true }]} />
          <tbody>
            {messages.data.map((m) => (
              <tr key={m.id}>
                <td>
                  <a href={href('messages', m.id)}>{m.name}</a>
                </td>
                <td>{m.subject}</td>
                <td>
                  {m.fromName} &lt;{m.fromEmail}&gt;
                </td>
                <td>{fmtDateTime(m.updatedAt)}</td>
                <td>
                  <RemoveButton
                    label={`Delete ${m.name}`}
                    confirm={`Delete the message ${m.name}? Mail already sent stays in the outbox.`}
                    run={() => api.deleteMessage(m.id)}
                    onDone={() => queryClient.invalidateQueries({ queryKey: ['messages'] })}
                  />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </section>
  );
}

/** The message just created: its editor (mounted anew at its own address) says it was saved. */
let justCreated: string | undefined;
const blank: MessageInput = { name: '', fromName: '', fromEmail: '', subject: '', html: '', text: '' };

/** Offset in `text` of a 1-based line and column. */
const offsetOf = (text: string, line: number, column = 1) => {
  const lines = text.split('\n');
  let offset = 0;
  for (let i = 0; i < line - 1 && i < lines.length; i++) offset += lines[i]!.length + 1;
  return Math.min(text.length, offset + Math.max(0, column - 1));
};

export function MessageEditor({ messageId }: { messageId: string | undefined }) {
  const loaded = useQuery({ queryKey: ['message', messageId], queryFn: () => api.message(messageId!), enabled: Boolean(messageId) });
  if (messageId && loaded.isPending) return <Loading />;
  if (messageId && !loaded.data) return <ErrorBanner error={loaded.error} />;
  return <Editor key={messageId ?? 'new'} message={loaded.data} />;
}

function Editor({ message }: { message: Message | undefined }) {
  const queryClient = useQueryClient();
  const [draft, setDraft] = useState<MessageInput>(() => (message ? { ...message, text: message.text ?? '' } : blank));
  const refs = {
    subject: useRef<HTMLInputElement>(null),
    html: useRef<HTMLTextAreaElement>(null),
    text: useRef<HTMLTextAreaElement>(null),
  };
  const [target, setTarget] = useState<TemplateField>('html');
  const [saved, setSaved] = useState(() => message !== undefined && justCreated === message.id);
  const save = useMutation({
    mutationFn: (body: MessageInput) => (message ? api.updateMessage(message.id, body) : api.createMessage(body)),
    onSuccess: (m) => {
      setSaved(true);
      queryClient.invalidateQueries({ queryKey: ['messages'] });
      queryClient.setQueryData(['message', m.id], m);
      if (!message) {
        justCreated = m.id;
        navigate('messages', m.id);
      }
    },
  });
  const problems: TemplateProblem[] =
    save.error instanceof ApiError && save.error.code === 'template_invalid' ? (save.error.details as TemplateProblem[]) : [];
  const errors = fieldErrors(save.error);
  const set = (field: keyof MessageInput, value: string) => {
    setDraft((d) => ({ ...d, [field]: value }));
    setSaved(false);
  };

  function insert(snippet: string) {
    const el = refs[target].current;
    const current = String(draft[target] ?? '');
    const start = el?.selectionStart ?? current.length;
    const end = el?.selectionEnd ?? current.length;
    set(target, current.slice(0, start) + snippet + current.slice(end));
    requestAnimationFrame(() => {
      const node = refs[target].current;
      if (!node) return;
      node.focus();
      node.setSelectionRange(start + snippet.length, start + snippet.length);
    });
  }

  function goTo(problem: TemplateProblem) {
    const field = (['subject', 'html', 'text'] as const).find((f) => f === problem.field);
    const node = field && refs[field].current;
    if (!field || !node) return;
    const at = offsetOf(String(draft[field] ?? ''), problem.line ?? 1, problem.column ?? 1);
    node.focus();
    node.setSelectionRange(at, at);
    setTarget(field);
  }

  const templateProps = (field: TemplateField) => ({
    onFocus: () => setTarget(field),
    'aria-invalid': problems.some((p) => p.field === field) || Boolean(errors[field]),
  });

  return (
    <section>
      <p className="crumbs">
        <a href={href('messages')}>Authoring</a>
      </p>
      <div className="page-head">
        <h1>{message ? message.name : 'New message'}</h1>
      </div>
      <div className="columns editor">
        <form
          className="form"
          onSubmit={(e) => {
            e.preventDefault();
            save.mutate({ ...draft, text: draft.text ? draft.text : null });
          }}
        >
          <div className="columns even">
            <Field label="Name" error={errors.name}>
              {(id, d) => <input id={id} aria-describedby={d} required value={draft.name} onChange={(e) => set('name', e.target.value)} />}
            </Field>
            <Field label="From name" error={errors.fromName}>
              {(id, d) => (
                <input id={id} aria-describedby={d} required value={draft.fromName} onChange={(e) => set('fromName', e.target.value)} />
              )}
            </Field>
            <Field label="From email" error={errors.fromEmail}>
              {(id, d) => (
                <input
                  id={id}
                  aria-describedby={d}
                  type="email"
                  required
                  value={draft.fromEmail}
                  onChange={(e) => set('fromEmail', e.target.value)}
                />
              )}
            </Field>
          </div>
          <Field label="Subject" error={errors.subject}>
            {(id, d) => (
              <input
                id={id}
                aria-describedby={d}
                ref={refs.subject}
                required
                value={draft.subject}
                onChange={(e) => set('subject', e.target.value)}
                {...templateProps('subject')}
              />
            )}
          </Field>
          <Field label="HTML body" error={errors.html} hint="Liquid: {{ Group.Field }}; values are HTML-escaped.">
            {(id, d) => (
              <textarea
                id={id}
                aria-describedby={d}
                ref={refs.html}
                rows={14}
                spellCheck={false}
                required
                value={draft.html}
                onChange={(e) => set('html', e.target.value)}
                {...templateProps('html')}
              />
            )}
          </Field>
          <Field label="Text body (optional)" error={errors.text}>
            {(id, d) => (
              <textarea
                id={id}
                aria-describedby={d}
                ref={refs.text}
                rows={5}
                spellCheck={false}
                value={draft.text ?? ''}
                onChange={(e) => set('text', e.target.value)}
                {...templateProps('text')}
              />
            )}
          </Field>
          {problems.length ? (
            <div className="banner error" role="alert">
              <strong>The message has template errors:</strong>
              <ul aria-label="Template errors">
                {problems.map((p, i) => (
                  <li key={i}>
                    <button type="button" className="link" onClick={() => goTo(p)}>
                      {p.field}
                      {p.line !== undefined ? `, line ${p.line}` : ''}
                      {p.column !== undefined ? `, column ${p.column}` : ''}
                    </button>
                    : {p.message}
                  </li>
                ))}
              </ul>
            </div>
          ) : null}
          <ErrorBanner error={save.error && !problems.length && !Object.keys(errors).length ? save.error : undefined} />
          <div className="actions">
            <button type="submit" className="primary" disabled={save.isPending}>
              {save.isPending ? 'Saving…' : 'Save and validate'}
            </button>
            {saved ? (
              <span role="status" className="ok">
                Saved: the templates are valid.
              </span>
            ) : null}
          </div>
        </form>
        <aside>
          <PersonalizationPanel target={target} onInsert={insert} />
          {message ? <PreviewPanel messageId={message.id} /> : <p className="muted">Save the message to preview it for a contact.</p>}
          {message ? <TestSendPanel messageId={message.id} /> : null}
        </aside>
      </div>
    </section>
  );
}

/** Every field with its snippet; a click inserts the snippet where the cursor was. */
function PersonalizationPanel({ target, onInsert }: { target: TemplateField; onInsert: (snippet: string) => void }) {
  const groups = useQuery({ queryKey: ['fieldGroups'], queryFn: api.fieldGroups });
  const label = { subject: 'the subject', html: 'the HTML body', text: 'the text body' }[target];
  return (
    <div className="panel" aria-label="Personalization">
      <h2>Personalization</h2>
      <p className="muted">Click a field to insert its snippet at the cursor in {label}.</p>
      <ErrorBanner error={groups.error} />
      <ul className="snippets">
        <li>
          <button
            type="button"
            className="snippet"
            title="{{ contact.email }}"
            onMouseDown={(e) => e.preventDefault()}
            onClick={() => onInsert('{{ contact.email }}')}
          >
            contact.email
          </button>
        </li>
      </ul>
      {groups.data?.length === 0 ? (
        <p className="muted">
          No fields yet: create them in <a href={href('segmentation')}>Segmentation</a>.
        </p>
      ) : null}
      {groups.data?.map((g) => (
        <div key={g.id}>
          <h3>{g.name}</h3>
          <ul className="snippets">
            {g.fields.map((f) => (
              <li key={f.id}>
                <button
                  type="button"
                  className="snippet"
                  aria-label={`Insert ${g.name}.${f.name}`}
                  title={f.snippet}
                  // Keep the cursor where it is in the editor: the insertion goes there.
                  onMouseDown={(e) => e.preventDefault()}
                  onClick={() => onInsert(f.snippet)}
                >
                  {f.name} <span className="muted">({f.type})</span>
                </button>
                <code className="snippet-code">{f.snippet}</code>
              </li>
            ))}
          </ul>
        </div>
      ))}
    </div>
  );
}

function PreviewPanel({ messageId }: { messageId: string }) {
  const [email, setEmail] = useState('');
  const preview = useMutation<Rendered, unknown, string>({ mutationFn: (e) => api.preview(messageId, { email: e }) });
  return (
    <div className="panel" aria-label="Preview">
      <h2>Preview</h2>
      <form
        className="form inline"
        onSubmit={(e) => {
          e.preventDefault();
          if (email.trim()) preview.mutate(email.trim());
        }}
      >
        <Field label="Contact email" error={fieldErrors(preview.error).email ?? fieldErrors(preview.error).contactId}>
          {(id, d) => <input id={id} aria-describedby={d} type="email" value={email} onChange={(e) => setEmail(e.target.value)} />}
        </Field>
        <div className="actions">
          <button type="submit" disabled={!email.trim() || preview.isPending}>
            Preview
          </button>
        </div>
      </form>
      <p className="muted">Renders the saved message for this contact: nothing is sent, no code is assigned.</p>
      <ErrorBanner
        error={preview.error instanceof ApiError && !Object.keys(fieldErrors(preview.error)).length ? preview.error : undefined}
      />
      {preview.data ? (
        <div className="preview">
          <p>
            <strong>Subject:</strong> <span data-testid="preview-subject">{preview.data.subject}</span>
          </p>
          <MailFrame html={preview.data.html} title="Message preview" />
        </div>
      ) : null}
    </div>
  );
}
