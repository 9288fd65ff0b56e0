import type { Generated } from 'kysely';

/** Accounts, merchants, API tokens, users and their links, the audit log, console sessions. */
export interface AccessTables {
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
    /** Migration 0012 (team access). */
    role: Generated<'owner' | 'admin' | 'marketer' | 'analyst'>;
  };
  // team access (migration 0012)
  users: {
    id: string;
    account_id: string;
    email: string;
    role: 'owner' | 'admin' | 'marketer' | 'analyst';
    merchant_ids: string[] | null;
    password_hash: string | null;
    status: Generated<'invited' | 'active'>;
    created_at: Generated<Date>;
    updated_at: Generated<Date>;
  };
  user_links: {
    token_hash: string;
    user_id: string;
    purpose: 'invite' | 'reset';
    created_at: Generated<Date>;
    expires_at: Date;
    used_at: Date | null;
  };
  audit_log: {
    account_id: string;
    id: string;
    at: Date;
    actor_type: string;
    actor_id: string;
    actor_name: string;
    action: string;
    route: string;
    resource_type: string;
    resource_id: string | null;
    summary: string;
  };
  // console sign-in (migration 0006): only the session id's SHA-256 is stored
  console_sessions: {
    id_hash: string;
    account_id: string;
    token_id: string | null;
    user_id: Generated<string | null>;
    created_at: Date;
    expires_at: Date;
  };
}
