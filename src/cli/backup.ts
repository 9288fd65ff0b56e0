import type { Command } from 'commander';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { loadConfig } from '../config.ts';
import { openAppDatabase } from '../runtime.ts';
import { migrations } from '../migrations/index.ts';
import type { DB } from '../schema.ts';
import { DataDirInUseError } from '../platform/db/datadir-lock.ts';
import { DataDirNotEmptyError, restoreDataDir } from '../platform/db/database.ts';
import { recordedVersion } from '../platform/db/catalog.sql.ts';
import { backupTarball, NotABackupError, pgDumpCommand, pgRestoreCommand, writeFileAtomically } from '../platform/db/backup-file.ts';
import { ApiClient, CliError } from './api-client.ts';

const size = (bytes: number) => (bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(1)} MB` : `${Math.ceil(bytes / 1024)} KB`);
const firstSentence = (message: string) => message.split('. ')[0];

/** FILE may be written: its directory exists, and it is not a directory itself. */
function writableTarget(file: string): string {
  const target = resolve(file);
  const dir = dirname(target);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new CliError(`cannot write ${file}: no such directory ${dir}`);
  if (existsSync(target) && statSync(target).isDirectory()) throw new CliError(`cannot write ${file}: it is a directory`);
  return target;
}

/**
 * `couponflow backup FILE`: a consistent copy of the embedded database. A free data dir is
 * opened here and dumped; one that `serve` owns is dumped by that server (GET /v1/backup, behind
 * its PGlite mutex), with the installation admin token in COUPONFLOW_TOKEN. FILE is written whole
 * or not at all.
 */
async function backup(file: string): Promise<void> {
  const config = loadConfig();
  if (config.DATABASE_URL)
    throw new CliError(`DATABASE_URL is set: back up PostgreSQL with pg_dump instead: ${pgDumpCommand(file, config.DATABASE_SCHEMA)}`);
  const target = writableTarget(file);
  if (!existsSync(join(config.DATA_DIR, 'pgdata', 'PG_VERSION')))
    throw new CliError(`there is no embedded database in ${config.DATA_DIR} (DATA_DIR): nothing to back up`);
  let database;
  try {
    database = await openAppDatabase(config);
  } catch (err) {
    if (!(err instanceof DataDirInUseError)) throw err;
    if (!process.env.COUPONFLOW_TOKEN) {
      throw new CliError(
        `${firstSentence(err.message)}. Set COUPONFLOW_TOKEN to the installation admin token (and COUPONFLOW_URL) and run this again: that server will take the copy.`,
      );
    }
    const api = ApiClient.fromEnv();
    const bytes = await api.download('/v1/backup', target);
    console.log(`backed up the database of the server at ${api.baseUrl} to ${file} (${size(bytes)})`);
    return;
  }
  try {
    const dump = await database.dumpDataDir!();
    const bytes = await writeFileAtomically(target, [new Uint8Array(await dump.arrayBuffer())]);
    console.log(`backed up ${config.DATA_DIR} to ${file} (${size(bytes)})`);
  } finally {
    await database.close();
  }
}

/**
 * `couponflow restore FILE`: a backup into an empty (or new) data directory, never into a live
 * or filled one. It is opened and its schema version checked: a backup from a newer Couponflow
 * is refused (and the directory left empty); an older one is migrated by `serve` at its start.
 */
async function restore(file: string): Promise<void> {
  const config = loadConfig();
  if (config.DATABASE_URL)
    throw new CliError(
      `DATABASE_URL is set: restore PostgreSQL with pg_restore instead, into an empty database: ${pgRestoreCommand(file)}`,
    );
  const known = migrations.length;
  let version = 0;
  try {
    await restoreDataDir<DB>({
      dataDir: config.DATA_DIR,
      schema: config.DATABASE_SCHEMA,
      // Read once the directory is found empty (a refusal needs no file read).
      tarball: async () => new Blob([(await readBackup(file)) as Uint8Array<ArrayBuffer>], { type: 'application/x-tar' }),
      check: async (database) => {
        version = await recordedVersion(database.db as never);
        if (version === 0) throw new CliError(`${file} holds no Couponflow database in schema ${config.DATABASE_SCHEMA} (DATABASE_SCHEMA)`);
        if (version > known) {
          throw new CliError(
            `${file} was taken from a newer Couponflow (schema version ${version}; this build knows up to ${known}): restore it with that version or a later one`,
          );
        }
      },
    });
  } catch (err) {
    if (err instanceof CliError) throw err;
    if (err instanceof DataDirNotEmptyError) throw new CliError(err.message);
    if (err instanceof DataDirInUseError)
      throw new CliError(`${firstSentence(err.message)}: a restore fills an empty data directory, with no server on it (set DATA_DIR)`);
    throw new CliError(`restoring ${file} failed (${(err as Error).message}); ${config.DATA_DIR} was left empty`);
  }
  const pending = version < known ? `; serve applies migrations ${version + 1} to ${known} when it starts` : '';
  console.log(`restored ${file} into ${config.DATA_DIR} (schema version ${version}${pending}); start it with \`couponflow serve\``);
}

/** The tar inside a backup file, checked (gzip, tar, a PostgreSQL data directory). */
async function readBackup(file: string): Promise<Uint8Array> {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new CliError(
      `cannot read ${file}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : (err as Error).message}`,
    );
  }
  try {
    return await backupTarball(bytes, file);
  } catch (err) {
    if (err instanceof NotABackupError) throw new CliError(err.message);
    throw err;
  }
}

export function backupCommands(program: Command) {
  program
    .command('backup')
    .argument('<file>', 'where to write the copy (a .tar.gz), whole or not at all')
    .description('a consistent copy of the embedded database, also while serve runs (through it: COUPONFLOW_TOKEN, installation admin)')
    .action((file: string) => backup(file));
  program
    .command('restore')
    .argument('<file>', 'a file written by `couponflow backup`')
    .description('load a backup into an empty or new data directory (DATA_DIR), then start serve on it')
    .action((file: string) => restore(file));
}
