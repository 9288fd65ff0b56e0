import type { Database } from './platform/db/database.ts';
import type { AccessTables } from './schema/access.ts';
import type { CommerceTables } from './schema/commerce.ts';
import type { ConductorTables } from './schema/conductor.ts';
import type { ContactTables } from './schema/contacts.ts';
import type { MailTables } from './schema/mail.ts';
import type { PoolTables } from './schema/pools.ts';

/**
 * The tables, as Kysely sees them, declared by area in src/schema/*.ts. Their queries live in the modules' repo.ts and
 * <area>.sql.ts files; where an area reads or writes another's tables, docs/ARCHITECTURE.md ("Boundaries") says why.
 */
export interface DB extends AccessTables, PoolTables, ContactTables, MailTables, ConductorTables, CommerceTables {}

export type AppDatabase = Database<DB>;
