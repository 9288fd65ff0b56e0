import type { Generated, JSONColumnType } from 'kysely';
import type { LineError } from '../modules/uploads/model.ts';

/** Pools, their codes and counters, assignments, uploads, and the daily history. */
export interface PoolTables {
  pools: {
    account_id: string;
    id: string;
    key: Generated<number>;
    merchant_id: string;
    name: string;
    type: 'unique' | 'static';
    expiration_cutoff_days: number;
    active: boolean;
    default_code: string | null;
    default_code_expires_at: Date | null;
    threshold: number | null;
    notification_emails: string[];
    threshold_armed: Generated<boolean>;
    /** A code a permanently refused mail carried goes back to the pool (migration 0010). */
    release_undelivered: Generated<boolean>;
    exhausted_armed: Generated<boolean>;
    /** `coupon_expiring` this many days before an assigned unique code expires (migration 0015). */
    expiry_reminder_days: Generated<number | null>;
    created_at: Generated<Date>;
    updated_at: Generated<Date>;
    /** Archived (migration 0018): distributes nothing, takes no codes, listed apart. */
    archived_at: Generated<Date | null>;
  };
  assignments: {
    account_id: string;
    id: string;
    pool_key: number;
    contact_id: string;
    idempotency_key: string;
    source: 'unique' | 'static' | 'default';
    code_id: number | null;
    code: string;
    expires_at: Date | null;
    created_at: Date;
    /** Set once when a bounced mail gave the code back to its pool (migration 0010). */
    released_at: Generated<Date | null>;
  };
  codes: {
    id: Generated<number>;
    account_id: string;
    pool_key: number;
    code: string;
    /** 'infinity' for a code that never expires. */
    expires_at: Date | string;
    assigned_at: Date | null;
    /** uploads.key of the upload or generate that brought the code (null: before migration 0014). */
    upload_key: number | null;
  };
  pool_code_counts: {
    account_id: string;
    pool_key: number;
    expires_at: Date | string;
    slot: number;
    codes: number;
    unassigned: number;
  };
  pool_daily_assignments: {
    account_id: string;
    pool_key: number;
    day: string;
    slot: number;
    assigned: number;
  };
  static_codes: {
    account_id: string;
    pool_key: number;
    position: number;
    code: string;
    expires_at: Date | null;
    days_after_distribution: number | null;
    begin_at: Date;
    end_at: Date;
  };
  uploads: {
    account_id: string;
    id: string;
    key: Generated<number>;
    pool_key: number;
    source: 'file' | 'generate';
    file_name: string | null;
    token_id: string | null;
    options: JSONColumnType<Record<string, unknown>>;
    status: 'imported' | 'rejected' | 'failed' | 'cancelled' | 'undone';
    lines: number;
    imported: number;
    duplicates: number;
    rejected: number;
    /** Migration 0013. */
    blank: Generated<number>;
    already_expired: Generated<number>;
    error_count: number;
    errors: JSONColumnType<LineError[]>;
    created_at: Generated<Date>;
    finished_at: Date | null;
    /** Undo (migration 0018): when, codes removed, assigned codes kept. */
    undone_at: Generated<Date | null>;
    removed: Generated<number | null>;
    kept_assigned: Generated<number | null>;
  };
  // the pools' daily history (migration 0012): see modules/reports/reports.sql.ts
  pool_daily_history: {
    account_id: string;
    pool_key: number;
    /** The calendar day in the account's time zone. */
    day: string;
    assigned: number;
    redeemed: number;
    available: number;
    recorded_at: Date;
  };
}
