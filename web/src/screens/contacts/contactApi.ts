/**
 * The contact page's calls, beside the shared client (web/src/api.ts stays as it is): suppressions,
 * codes of a pool for an email, the contacts import (XMLHttpRequest for upload progress) and the
 * extra outbox fields.
 */
import { postFile, request, type ApiErrorBody, type Page } from '../../api.ts';

const enc = encodeURIComponent;

import type { SuppressionReason, Suppression as StoredSuppression } from '../../../../src/modules/suppressions/model.ts';
import type { CodeJson } from '../../../../src/modules/codes/model.ts';
import type { ContactImportJson } from '../../../../src/modules/contacts/model.ts';
import type { MailJson } from '../../../../src/modules/outbox/model.ts';

export type { SuppressionReason };
export type { CodeStatus } from '../../../../src/modules/codes/model.ts';
/** A suppression as the API answers it (its date as an ISO string). */
export type SuppressionEntry = Omit<StoredSuppression, 'createdAt'> & { createdAt: string };
export type PoolCode = CodeJson;
export type ContactImportReport = ContactImportJson;
/** GET /v1/outbox/{id}'s answer. */
export type MailDetail = MailJson;

export const suppressionsApi = {
  list: (search?: string, cursor?: string) =>
    request<Page<SuppressionEntry>>(
      'GET',
      `/v1/suppressions?limit=50${search ? `&search=${enc(search)}` : ''}${cursor ? `&cursor=${enc(cursor)}` : ''}`,
    ),
  add: (email: string, reason: SuppressionReason = 'manual') => request<SuppressionEntry>('POST', '/v1/suppressions', { email, reason }),
  remove: (email: string) => request<void>('DELETE', `/v1/suppressions/${enc(email)}`),
  /** The suppression of exactly this address, if any. */
  of: async (email: string) => (await suppressionsApi.list(email)).items.find((s) => s.email.toLowerCase() === email.toLowerCase()) ?? null,
};

export const codesOfContact = (poolId: string, email: string) =>
  request<Page<PoolCode>>('GET', `/v1/pools/${enc(poolId)}/codes?limit=100&q=${enc(email)}`);
export const mailDetail = (id: string) => request<MailDetail>('GET', `/v1/outbox/${enc(id)}`);
export const testSend = (messageId: string, body: { to: string[]; email?: string }) =>
  request<{ mailIds: string[] }>('POST', `/v1/messages/${enc(messageId)}/test`, body);

/** Rejects with code `cancelled` when `signal` aborts (the server rolls the import back). */
export function importContacts(
  file: File,
  onInvalid: 'reject' | 'skip',
  onProgress: (fraction: number) => void,
  signal?: AbortSignal,
): Promise<ContactImportReport> {
  return postFile<ContactImportReport>('/v1/contacts/import', [['onInvalid', onInvalid]], file, {
    onProgress,
    signal,
    what: 'import',
    cancelled: 'Import cancelled: nothing was imported.',
    accepted: (status, body) => {
      const err = body as (ApiErrorBody & { import?: ContactImportReport }) | undefined;
      return status === 422 && err?.import ? err.import : undefined;
    },
  });
}

/** A calendar day (YYYY-MM-DD) as the console shows dates; an instant as its day in the account's zone. */
export function fmtDay(value: string, timeZone: string): string {
  const day = /^\d{4}-\d{2}-\d{2}$/.test(value) ? new Date(`${value}T12:00:00Z`) : new Date(value);
  if (Number.isNaN(day.getTime())) return value;
  const zone = /^\d{4}-\d{2}-\d{2}$/.test(value) ? 'UTC' : timeZone;
  return new Intl.DateTimeFormat('en-US', { timeZone: zone, year: 'numeric', month: 'short', day: 'numeric' }).format(day);
}

/** An ISO-8601 instant (what a text field holding an expiration looks like)? */
export const isInstant = (v: unknown): v is string =>
  typeof v === 'string' && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(v) && !Number.isNaN(Date.parse(v));

/** A date value as `<input type="date">` takes it: YYYY-MM-DD (an instant as its day in the account's zone). */
export function inputDay(value: string, timeZone: string): string {
  if (/^\d{4}-\d{2}-\d{2}$/.test(value)) return value;
  const d = new Date(value);
  return Number.isNaN(d.getTime())
    ? ''
    : new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(d);
}
