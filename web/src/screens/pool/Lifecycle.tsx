import type { ReactNode } from 'react';
import { useMutation, useQuery, useQueryClient, type QueryClient } from '@tanstack/react-query';
import { ApiError, api, type Pool, type Upload } from '../../api.ts';
import type { UsedByJson } from '../../../../src/modules/pools/model.ts';
import { href } from '../../router.ts';
import { Dialog, ErrorBanner, fmtDateTime, fmtNumber, Loading } from '../../ui.tsx';

/** Everything on the pool page that shows codes or counts: refreshed after an undo or an archive. */
export function refreshPool(queryClient: QueryClient, poolId: string) {
  for (const key of [['pools'], ['pool', poolId], ['uploads', poolId], ['history', poolId], ['codes', poolId], ['report', poolId]])
    queryClient.invalidateQueries({ queryKey: key });
}

const codes = (n: number) => `${fmtNumber(n)} ${n === 1 ? 'code' : 'codes'}`;
const uploadName = (u: Upload) => (u.source === 'file' ? `“${u.fileName ?? 'file'}”` : 'of generated codes');

/** What an undone upload did, in a line. */
export const undoneSummary = (u: Pick<Upload, 'removed' | 'keptAssigned'>) =>
  `${codes(u.removed ?? 0)} removed, ${fmtNumber(u.keptAssigned ?? 0)} kept (already assigned)`;

/**
 * The confirmation of an undo: says how many codes go (the upload's codes nobody has been given
 * yet, read when it opens), then what the undo did.
 */
export function UndoDialog({ pool, upload, onClose }: { pool: Pool; upload: Upload; onClose: () => void }) {
  const queryClient = useQueryClient();
  const detail = useQuery({ queryKey: ['upload', upload.id], queryFn: () => api.upload(upload.id), staleTime: 0 });
  const undo = useMutation({
    mutationFn: () => api.undoUpload(upload.id),
    onSettled: () => {
      refreshPool(queryClient, pool.id);
      queryClient.invalidateQueries({ queryKey: ['upload', upload.id] });
    },
  });
  const n = detail.data?.unassignedCodes;
  return (
    <Dialog title="Undo this upload?" onClose={onClose}>
      {undo.data ? (
        <>
          <p role="status">
            Upload undone: {codes(undo.data.removed)} removed from the pool
            {undo.data.keptAssigned ? `; ${codes(undo.data.keptAssigned)} kept (already assigned to contacts)` : ''}.
          </p>
          <div className="actions">
            <button type="button" className="primary" onClick={onClose}>
              Close
            </button>
          </div>
        </>
      ) : (
        <>
          <p>
            The upload {uploadName(upload)} of {fmtDateTime(upload.createdAt)} brought {codes(upload.imported)} into “{pool.name}”.
          </p>
          {detail.isPending ? <Loading /> : null}
          <ErrorBanner error={detail.error ?? undo.error} />
          {n !== undefined ? (
            <p data-testid="undo-count">
              {n === 0
                ? 'None of its codes is still available: nothing will be removed, the upload will be marked undone.'
                : `${codes(n)} not yet handed out will be removed from the pool.`}{' '}
              Codes already assigned to contacts stay theirs.
            </p>
          ) : null}
          <div className="actions">
            <button type="button" className="danger" disabled={n === undefined || undo.isPending} onClick={() => undo.mutate()}>
              {undo.isPending ? 'Undoing…' : n ? `Remove ${codes(n)}` : 'Undo upload'}
            </button>
            <button type="button" onClick={onClose}>
              Cancel
            </button>
          </div>
        </>
      )}
    </Dialog>
  );
}

/** The conversations a 409 pool_in_use names (its details), if that is what the error is. */
export function usersOf(err: unknown): UsedByJson[] | null {
  if (!(err instanceof ApiError) || err.code !== 'pool_in_use') return null;
  return err.details.filter((d): d is UsedByJson => Boolean(d && typeof d === 'object' && 'name' in d && 'id' in d));
}

/**
 * Archive / Unarchive: the button (for the page head) and, after a refusal, what holds the pool
 * in a marketer's words (which conversations hand out its codes) for under it.
 */
export function useArchive(pool: Pool): { button: ReactNode; problem: ReactNode } {
  const queryClient = useQueryClient();
  const archived = pool.archivedAt !== null;
  const change = useMutation({
    mutationFn: () => api.archivePool(pool.id, !archived),
    onSuccess: () => refreshPool(queryClient, pool.id),
  });
  const button = (
    <button type="button" disabled={change.isPending} onClick={() => change.mutate()}>
      {archived ? 'Unarchive' : 'Archive'}
    </button>
  );
  return { button, problem: change.error ? <ArchiveRefusal error={change.error} pool={pool} /> : null };
}

function ArchiveRefusal({ error, pool }: { error: unknown; pool: Pool }) {
  const users = usersOf(error);
  if (!users) return <ErrorBanner error={error} />;
  const one = users.length === 1;
  return (
    <div className="banner warning" role="alert">
      “{pool.name}” can’t be archived while {one ? 'a conversation hands out' : 'conversations hand out'} its codes:{' '}
      {users.map((u, i) => (
        <span key={u.id}>
          {i > 0 ? ', ' : ''}
          <a href={href('conversations', u.id)}>{u.name}</a> ({u.status === 'live' ? 'running' : u.status})
        </span>
      ))}
      . Switch {one ? 'it' : 'them'} to another pool first; a paused conversation still counts, as it can be resumed.
    </div>
  );
}
