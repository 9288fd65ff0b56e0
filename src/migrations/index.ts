import type { Migration } from '../platform/db/migrate.ts';
import * as init from './0001-init.ts';

/** Every migration, in order. Forward only: never edit one that has shipped; add the next. */
export const migrations: Migration[] = [{ version: 1, name: '0001-init', up: init.up }];
