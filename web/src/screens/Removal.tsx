import { useMutation } from '@tanstack/react-query';
import { ApiError, type Usage } from '../api.ts';

/** The users a 409 `…_in_use` names (its `details`), one line each: what uses it and through which steps. */
export function UsedBy({ error }: { error: unknown }) {
  if (!(error instanceof ApiError) || error.status !== 409) return null;
  const users = (error.details as Usage[]).filter(
    (u) => u && typeof u.name === 'string' && (u.type === 'conversation' || u.type === 'message'),
  );
  return (
    <div className="banner error" role="alert">
      {error.message}
      {users.length ? (
        <ul aria-label="Used by">
          {users.map((u, i) => (
            <li key={`${u.id}-${i}`}>
              {u.type === 'conversation' ? 'Conversation' : 'Message'} <strong>{u.name}</strong>
              {u.status ? ` (${u.status})` : ''}
              {u.steps?.length ? ` — steps: ${u.steps.map((s) => s.name).join(', ')}` : ''}
              {u.field ? ` — field ${u.field.name}` : ''}
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}

/**
 * A button that asks for confirmation, then runs `run`; a refusal (409, naming what uses the thing)
 * or any other error shows under it.
 */
export function RemoveButton({
  label,
  confirm,
  run,
  onDone,
  className = 'small ghost',
}: {
  label: string;
  /** The confirmation question (what goes). */
  confirm: string;
  run: () => Promise<unknown>;
  onDone: () => void;
  className?: string;
}) {
  const mutation = useMutation({ mutationFn: run, onSuccess: onDone });
  const error = mutation.error;
  return (
    <>
      <button
        type="button"
        className={className}
        disabled={mutation.isPending}
        onClick={() => {
          if (window.confirm(confirm)) mutation.mutate();
        }}
      >
        {label}
      </button>
      {error instanceof ApiError && error.status === 409 ? (
        <UsedBy error={error} />
      ) : error ? (
        <div className="banner error" role="alert">
          {error instanceof Error ? error.message : String(error)}
        </div>
      ) : null}
    </>
  );
}
