import { useState } from 'react';

/**
 * Cursor paging as the list screens do it: the cursors of the pages seen so far (the first page has
 * none); back drops the last one, next pushes the answer's `nextCursor`.
 */
export function useCursorPages() {
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  return {
    cursor: cursors[cursors.length - 1],
    /** 1 on the first page. */
    page: cursors.length,
    reset: () => setCursors([undefined]),
    back: () => setCursors((c) => c.slice(0, -1)),
    next: (cursor: string) => setCursors((c) => [...c, cursor]),
  };
}

/** The Previous / Next buttons under a list (each shown only when there is a page that way). */
export function Pager(props: {
  pages: ReturnType<typeof useCursorPages>;
  nextCursor: string | null | undefined;
  /** The buttons' text (a newest-first log says Newer / Older). */
  labels?: [previous: string, next: string];
}) {
  const { pages, nextCursor } = props;
  const [previous, next] = props.labels ?? ['Previous', 'Next'];
  return (
    <div className="actions">
      {pages.page > 1 ? (
        <button type="button" onClick={pages.back}>
          {previous}
        </button>
      ) : null}
      {nextCursor ? (
        <button type="button" onClick={() => pages.next(nextCursor)}>
          {next}
        </button>
      ) : null}
    </div>
  );
}
