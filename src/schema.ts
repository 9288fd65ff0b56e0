import type { Generated } from 'kysely';
import type { Database } from './platform/db/database.ts';

/** The tables, as Kysely sees them. Each area's repo.ts is the only code that touches its own. */
export interface DB {
  accounts: {
    id: string;
    name: string;
    time_zone: Generated<string>;
    created_at: Generated<Date>;
  };
  merchants: {
    account_id: string;
    id: string;
    name: string;
    domain: string;
    created_at: Generated<Date>;
  };
  tokens: {
    id: string;
    account_id: string;
    token_hash: string;
    name: string;
    merchant_ids: string[] | null;
    installation_admin: Generated<boolean>;
    created_at: Generated<Date>;
    last_used_at: Date | null;
  };
}

export type AppDatabase = Database<DB>;
