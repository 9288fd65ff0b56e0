import { useCallback, useMemo, useState } from 'react';

/**
 * Cursor paging as the list screens do it: the cursors of the pages seen so far (the first page has
 * none); back drops the last one, next pushes the answer's `nextCursor`. A change of `scope` (the
 * merchant, the archived view) starts again from the first page, as `reset` does (a new filter).
 * The functions keep their identity between renders (an effect may call `reset`).
 */
export function useCursorPages(scope?: string) {
  const [seen, setSeen] = useState<{ scope: string | undefined; cursors: (string | undefined)[] }>({ scope, cursors: [undefined] });
  // A new scope forgets the cursors at once (state adjusted while rendering, as React advises), so
  // coming back to the old scope starts on its first page too.
  if (seen.scope !== scope) setSeen({ scope, cursors: [undefined] });
  const cursors = seen.scope === scope ? seen.cursors : [undefined];
  const change = useCallback(
    (f: (cursors: (string | undefined)[]) => (string | undefined)[]) =>
      setSeen((s) => ({ scope, cursors: f(s.scope === scope ? s.cursors : [undefined]) })),
    [scope],
  );
  const reset = useCallback(() => change(() => [undefined]), [change]);
  const back = useCallback(() => change((c) => (c.length > 1 ? c.slice(0, -1) : c)), [change]);
  const next = useCallback((cursor: string) => change((c) => [...c, cursor]), [change]);
  return useMemo(
    () => ({
      cursor: cursors[cursors.length - 1],
      /** 1 on the first page. */
      page: cursors.length,
      reset,
      back,
      next,
    }),
    [cursors, reset, back, next],
  );
}

export type CursorPages = ReturnType<typeof useCursorPages>;

/**
 * The Previous / Next buttons under a list. By default each is shown only when there is a page
 * that way; `steady` keeps both in place (disabled when there is none) with the page number between.
 */
export function Pager(props: {
  pages: CursorPages;
  nextCursor: string | null | undefined;
  /** The buttons' text (a newest-first log says Newer / Older). */
  labels?: [previous: string, next: string];
  /** What is paged ("codes"): the buttons are named "Previous page of codes" for a screen reader. */
  of?: string;
  steady?: boolean;
}) {
  const { pages, nextCursor, of, steady } = props;
  const [previous, next] = props.labels ?? ['Previous', 'Next'];
  const name = (word: string) => (of ? `${word} page of ${of}` : undefined);
  return (
    <div className="actions">
      {pages.page > 1 || steady ? (
        <button type="button" aria-label={name('Previous')} disabled={pages.page === 1} onClick={pages.back}>
          {previous}
        </button>
      ) : null}
      {steady ? <span className="muted">Page {pages.page}</span> : null}
      {nextCursor || steady ? (
        <button type="button" aria-label={name('Next')} disabled={!nextCursor} onClick={() => nextCursor && pages.next(nextCursor)}>
          {next}
        </button>
      ) : null}
    </div>
  );
}

/** The labels of the pool page's and the redemptions' pagers. */
export const PAGE_LABELS: [string, string] = ['Previous page', 'Next page'];
