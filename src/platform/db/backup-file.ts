import { closeSync, fsyncSync, openSync, renameSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { gunzip } from 'node:zlib';
import { promisify } from 'node:util';

/** On PostgreSQL, its own tools do it (README "Backup and restore"); the commands, for FILE. */
export const pgDumpCommand = (file: string, schema: string) =>
  `pg_dump --format=custom${schema === 'public' ? '' : ` --schema=${schema}`} --file ${quoted(file)} "$DATABASE_URL"`;
export const pgRestoreCommand = (file: string) => `pg_restore --no-owner --dbname "$DATABASE_URL" ${quoted(file)}`;
const quoted = (file: string) => (/^[\w./-]+$/.test(file) ? file : `'${file.replace(/'/g, `'\\''`)}'`);

/** A file that is not a backup of an embedded data directory (`couponflow backup`). */
export class NotABackupError extends Error {
  readonly code = 'not_a_backup';
}

const gunzipAsync = promisify(gunzip);

/**
 * The tar inside a backup file (a gzipped tar of a PGlite data directory, as `dumpDataDir` makes
 * it), checked before PGlite sees it: gzip, then tar headers ("ustar"), then a top-level
 * PG_VERSION. PGlite itself fails on a broken file with an error nobody can act on.
 */
export async function backupTarball(bytes: Uint8Array, file: string): Promise<Uint8Array> {
  const gzipped = bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
  if (!gzipped) throw new NotABackupError(`${file} is not a Couponflow backup (not gzip; \`couponflow backup FILE\` writes a .tar.gz)`);
  let tar: Buffer;
  try {
    tar = await gunzipAsync(bytes);
  } catch (err) {
    throw new NotABackupError(`${file} is not a Couponflow backup: it does not decompress (${(err as Error).message}); is it complete?`);
  }
  const names = tarNames(tar);
  if (names === undefined) throw new NotABackupError(`${file} is not a Couponflow backup (its content is not a tar archive)`);
  if (!names.some((name) => name.replace(/^\.?\//, '') === 'PG_VERSION'))
    throw new NotABackupError(`${file} is not a Couponflow backup (no PostgreSQL data directory in it)`);
  return tar;
}

/** The entry names of a ustar archive, or undefined when it is not one (or is cut short). */
function tarNames(tar: Buffer): string[] | undefined {
  const names: string[] = [];
  for (let at = 0; at + 512 <= tar.length;) {
    const header = tar.subarray(at, at + 512);
    if (header.every((b) => b === 0)) return names; // the end-of-archive blocks
    if (header.toString('latin1', 257, 262) !== 'ustar') return undefined;
    const field = (from: number, length: number) => header.toString('utf8', from, from + length).replace(/\0.*$/s, '');
    const prefix = field(345, 155);
    names.push(prefix ? `${prefix}/${field(0, 100)}` : field(0, 100));
    const size = parseInt(field(124, 12).trim() || '0', 8);
    if (!Number.isFinite(size)) return undefined;
    at += 512 + Math.ceil(size / 512) * 512;
    if (at > tar.length) return undefined;
  }
  return names.length > 0 ? names : undefined;
}

/**
 * Writes `chunks` to `file` so that it appears whole or not at all: into a temporary file beside
 * it, synced, then renamed over it (and the directory synced). A failure removes the temporary
 * file and leaves `file` as it was. Returns the bytes written.
 */
export async function writeFileAtomically(file: string, chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): Promise<number> {
  const tmp = join(dirname(file), `.${basename(file)}.${process.pid}.tmp`);
  let bytes = 0;
  const handle = await open(tmp, 'wx');
  try {
    try {
      for await (const chunk of chunks) {
        await handle.write(chunk);
        bytes += chunk.length;
      }
      await handle.sync();
    } finally {
      await handle.close();
    }
    renameSync(tmp, file);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
  try {
    const dir = openSync(dirname(file), 'r');
    try {
      fsyncSync(dir);
    } finally {
      closeSync(dir);
    }
  } catch {
    // Some filesystems cannot sync a directory; the rename is done all the same.
  }
  return bytes;
}
