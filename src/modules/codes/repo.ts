export { listCodes } from './codes.sql.ts';

export type CodeStatus = 'available' | 'assigned' | 'redeemed' | 'expired';

export interface CodeRow {
  code: string;
  status: CodeStatus;
  expires_at: Date | null;
  contact_id: string | null;
  email: string | null;
  assigned_at: Date | null;
  redeemed_at: Date | null;
}

export interface CodeFilter {
  status?: CodeStatus | undefined;
  /** A code prefix, or (with an @) a contact's email. */
  q?: string | undefined;
}
