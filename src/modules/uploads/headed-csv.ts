/**
 * A CSV whose first record is a header (contacts and redemptions imports), read as batches of
 * lines. Records come from the uploads' RFC 4180 reader (lines.ts), so BOM, CRLF, quoting and line
 * numbers behave as in an upload. Streaming: the input is read in slices and batches are yielded
 * as soon as they fill; a line's content never throws, the header is the caller's to refuse.
 */
import { StringDecoder } from 'node:string_decoder';
import { RecordReader, type RecordSink } from './lines.ts';

const SLICE = 64 * 1024;

export interface HeadedCsv<C, L> {
  batchSize: number;
  /** The header's columns from its cells; throws (a 422) when they cannot be used. */
  header(cells: string[]): C;
  /** One record after the header, as a line (accepted or refused). */
  line(line: number, cells: string[], columns: C): L;
  /** A record the reader refuses (too long, bad quoting) after the header. */
  refused(line: number, reason: string): L;
  /** Thrown when the reader refuses the header record itself. */
  headerError(line: number, reason: string): Error;
  /** Thrown when the file holds no header at all. */
  emptyFile(): Error;
}

export async function* readHeadedCsv<C, L>(
  input: AsyncIterable<Buffer | string> | Iterable<Buffer | string>,
  spec: HeadedCsv<C, L>,
): AsyncGenerator<L[]> {
  let header: { columns: C } | null = null;
  let batch: L[] = [];
  const ready: L[][] = [];
  const flush = () => {
    if (batch.length) ready.push(batch);
    batch = [];
  };
  const push = (line: L) => {
    batch.push(line);
    if (batch.length >= spec.batchSize) flush();
  };
  const sink: RecordSink = {
    problem(line, reason) {
      if (!header) throw spec.headerError(line, reason);
      push(spec.refused(line, reason));
    },
    plain(line, text) {
      sink.record(line, text.split(','));
    },
    record(line, cells) {
      if (!header) header = { columns: spec.header(cells) };
      else push(spec.line(line, cells, header.columns));
    },
  };
  const reader = new RecordReader(',', sink);
  const decoder = new StringDecoder('utf8');
  for await (const chunk of input) {
    const text = typeof chunk === 'string' ? chunk : decoder.write(chunk);
    for (let at = 0; at < text.length; at += SLICE) {
      reader.write(text.length <= SLICE ? text : text.slice(at, at + SLICE));
      yield* ready.splice(0);
    }
  }
  reader.write(decoder.end());
  reader.end();
  flush();
  if (!header) throw spec.emptyFile();
  yield* ready.splice(0);
}
