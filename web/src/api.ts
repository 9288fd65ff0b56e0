/**
 * The console's one API client: the same REST API as every other client, signed in by the
 * HttpOnly session cookie (never a token in browser storage). Same-origin requests carry the
 * Origin header the server checks on every change.
 */

export interface ApiErrorBody {
  error: { code: string; message: string; details: unknown[] };
  [extra: string]: unknown;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: unknown[],
    readonly body: ApiErrorBody | undefined,
  ) {
    super(message);
  }
}

/** Problems of a 422 answer keyed by field ("name", "rows.0.code", …): shown next to their input. */
export function fieldErrors(err: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!(err instanceof ApiError)) return out;
  for (const d of err.details as { field?: string; message?: string }[]) {
    if (d && typeof d.field === 'string' && d.message && !out[d.field]) out[d.field] = d.message;
  }
  return out;
}

async function toError(res: Response): Promise<ApiError> {
  let body: ApiErrorBody | undefined;
  try {
    body = (await res.json()) as ApiErrorBody;
  } catch {
    body = undefined;
  }
  const error = body?.error;
  return new ApiError(res.status, error?.code ?? `http_${res.status}`, error?.message ?? `${res.status} ${res.statusText}`, error?.details ?? [], body);
}

/** Called when any request answers 401: the session has ended. */
let onUnauthorized: () => void = () => {};
export const setUnauthorizedHandler = (fn: () => void) => {
  onUnauthorized = fn;
};

export async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(path, {
    method,
    credentials: 'same-origin',
    headers: body === undefined ? { accept: 'application/json' } : { accept: 'application/json', 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (res.status === 401 && path !== '/v1/session') onUnauthorized();
  if (!res.ok) throw await toError(res);
  if (res.status === 204) return undefined as T;
  return (await res.json()) as T;
}

const get = <T>(path: string) => request<T>('GET', path);
const post = <T>(path: string, body: unknown = {}) => request<T>('POST', path, body);
const put = <T>(path: string, body: unknown) => request<T>('PUT', path, body);
const patch = <T>(path: string, body: unknown) => request<T>('PATCH', path, body);
const enc = encodeURIComponent;
const qs = (params: Record<string, string | number | undefined>) => {
  const entries = Object.entries(params).filter(([, v]) => v !== undefined && v !== '') as [string, string][];
  return entries.length ? `?${new URLSearchParams(entries.map(([k, v]) => [k, String(v)])).toString()}` : '';
};

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

// ---- session and merchants
export interface Session {
  accountId: string;
  accountName: string;
  timeZone: string;
  merchantIds: string[] | null;
  installationAdmin: boolean;
  via: 'session' | 'token';
  role: import('../../src/modules/accounts/permissions.ts').Role;
  actor: { type: 'token' | 'user'; id: string; name: string };
}
export interface Merchant {
  id: string;
  name: string;
  domain: string;
}

// ---- pools
export type PoolType = 'unique' | 'static';
export interface PoolCounts {
  total: number;
  available: number;
  assigned: number;
  expired: number;
  withinCutoff: number;
}
export interface Pool {
  id: string;
  merchantId: string;
  name: string;
  type: PoolType;
  expirationCutoffDays: number;
  active: boolean;
  defaultCode: string | null;
  defaultCodeExpiresAt: string | null;
  threshold: number | null;
  notificationEmails: string[];
  counts: PoolCounts;
  runsOutAt: string | null;
  createdAt: string;
  updatedAt: string;
}
export interface PoolSettings {
  name: string;
  type: PoolType;
  expirationCutoffDays?: number;
  active?: boolean;
  defaultCode?: string | null;
  defaultCodeExpiresAt?: string | null;
  threshold?: number | null;
  notificationEmails?: string;
}
export interface LineError {
  line: number;
  reason: string;
}
export interface Upload {
  id: string;
  poolId: string;
  source: 'file' | 'generate';
  fileName: string | null;
  options: Record<string, unknown>;
  status: 'imported' | 'rejected' | 'failed';
  lines: number;
  imported: number;
  duplicates: number;
  rejected: number;
  errors: LineError[];
  errorCount: number;
  /** On the upload's own answer only (see uploadOut in src/modules/uploads/routes.ts). */
  blank?: number;
  alreadyExpired?: number;
  createdAt: string;
  finishedAt: string | null;
}
export interface UploadOptions {
  expiration: 'none' | 'file' | 'fixed';
  delimiter: ',' | ';' | 'tab' | '|';
  expiresOn?: string;
  onInvalid: 'reject' | 'skip';
}
export interface StaticRowInput {
  code: string;
  expiresOn?: string;
  daysAfterDistribution?: number;
  beginDistribution: string;
  endDistribution: string;
}
export interface StaticRow {
  code: string;
  expiresOn: string | null;
  daysAfterDistribution: number | null;
  beginDistribution: string;
  endDistribution: string;
}
export interface RowProblem {
  row: number;
  field: string;
  message: string;
}
export interface Assignment {
  id: string;
  code: string;
  expiresAt: string | null;
  source: 'unique' | 'static' | 'default';
  contactId: string;
  email: string;
  createdAt: string;
}

// ---- segmentation, contacts, messages
export type FieldType = 'text' | 'date' | 'number' | 'boolean';
export interface Field {
  id: string;
  groupId: string;
  name: string;
  type: FieldType;
  snippet: string;
}
export interface FieldGroup {
  id: string;
  name: string;
  fields: Field[];
}
export type FieldValue = string | number | boolean;
export interface Contact {
  id: string;
  email: string;
  status: 'subscribed' | 'unsubscribed';
  fields: Record<string, Record<string, FieldValue>>;
  createdAt: string;
  updatedAt: string;
}
export interface ContactRun {
  conversationId: string;
  [more: string]: unknown;
}
export interface ContactWithRuns extends Contact {
  runs: ContactRun[];
}
export interface MessageInput {
  name: string;
  fromName: string;
  fromEmail: string;
  subject: string;
  html: string;
  text?: string | null;
}
export interface Message extends MessageInput {
  id: string;
  text: string | null;
  createdAt: string;
  updatedAt: string;
}
/** A template problem: which template, where, what. */
export interface TemplateProblem {
  field: string;
  line?: number;
  column?: number;
  message: string;
}
export interface Rendered {
  subject: string;
  html: string;
  text: string;
}

// ---- conductor (SPEC §7 shapes)
export interface AssignCouponAction {
  type: 'assignCoupon';
  merchantId: string;
  poolId: string;
  saveCodeTo: string;
  saveExpirationTo?: string | null;
  whenNoCode: 'continue' | 'exit';
}
export interface SetFieldAction {
  type: 'setField';
  field: string;
  value: string | number | boolean | null;
}
export interface CommittedMessage {
  messageId: string;
  committedAt: string;
  subject: string;
  name: string;
}
export type Step =
  | { id?: string; name: string; type: 'delay'; duration: string }
  | { id?: string; name: string; type: 'action'; action: AssignCouponAction | SetFieldAction }
  | { id?: string; name: string; type: 'message'; messageId: string; committed?: CommittedMessage | null };
export interface ConversationInput {
  name: string;
  trigger: { event: string };
  exitEvents: string[];
  reentry: 'never' | 'afterCompletion';
  steps: Step[];
}
export interface StepCounts {
  entered: number;
  completed: number;
  codesAssigned: number;
  defaultCodes: number;
  noCode: number;
  messagesSent: number;
  exits: number;
}
export interface Conversation extends ConversationInput {
  id: string;
  status: 'draft' | 'live' | 'paused';
  version: number | null;
  /** Per-step counts, by step id. */
  stepCounts: Record<string, StepCounts>;
}
export interface PublishIssue {
  stepId: string | null;
  field: string;
  message: string;
}
export interface Enrollment {
  id: string;
  contactId: string;
  version: number;
  status: string;
  steps: { stepId: string; outcome: string; at: string; code?: string; messageId?: string }[];
}

// ---- outbox
export interface Mail {
  id: string;
  kind: 'message' | 'notification';
  to: string;
  from: { name: string; email: string };
  subject: string;
  html: string;
  text: string | null;
  status: 'queued' | 'sent' | 'failed';
  lastError: string | null;
  createdAt: string;
  sentAt: string | null;
}

/** Every list page, following cursors, up to `max` items. */
async function all<T>(path: string, max = 5000): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | undefined;
  const sep = path.includes('?') ? '&' : '?';
  do {
    const page = await get<Page<T>>(`${path}${sep}limit=500${cursor ? `&cursor=${enc(cursor)}` : ''}`);
    items.push(...page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor && items.length < max);
  return items;
}

/**
 * Uploads go through XMLHttpRequest, the one browser API that reports upload progress. The option
 * fields come before the file: the server streams the file as it arrives.
 */
/** Rejects with code `cancelled` when `signal` aborts: the request is cut, the server rolls the upload back. */
export function uploadCodes(poolId: string, file: File, options: UploadOptions, onProgress: (fraction: number) => void, signal?: AbortSignal): Promise<Upload> {
  return new Promise((resolve, reject) => {
    const form = new FormData();
    form.append('expiration', options.expiration);
    if (options.expiration === 'file') form.append('delimiter', options.delimiter);
    if (options.expiration === 'fixed' && options.expiresOn) form.append('expiresOn', options.expiresOn);
    form.append('onInvalid', options.onInvalid);
    form.append('file', file, file.name);
    const xhr = new XMLHttpRequest();
    xhr.open('POST', `/v1/pools/${enc(poolId)}/uploads`);
    xhr.setRequestHeader('accept', 'application/json');
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable) onProgress(e.loaded / e.total);
    };
    xhr.onerror = () => reject(new ApiError(0, 'network_error', 'The upload did not reach the server.', [], undefined));
    xhr.onabort = () => reject(new ApiError(0, 'cancelled', 'Upload cancelled: nothing was imported.', [], undefined));
    if (signal?.aborted) return xhr.onabort(new ProgressEvent('abort'));
    signal?.addEventListener('abort', () => xhr.abort(), { once: true });
    xhr.onload = () => {
      let body: unknown;
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        body = undefined;
      }
      if (xhr.status === 201) return resolve(body as Upload);
      if (xhr.status === 401) onUnauthorized();
      const errBody = body as ApiErrorBody | undefined;
      reject(new ApiError(xhr.status, errBody?.error?.code ?? `http_${xhr.status}`, errBody?.error?.message ?? `upload failed (${xhr.status})`, errBody?.error?.details ?? [], errBody));
    };
    xhr.send(form);
  });
}

export const api = {
  session: () => get<Session>('/v1/session'),
  signIn: (token: string) => post<Session>('/v1/session', { token }),
  signOut: () => request<void>('DELETE', '/v1/session'),

  merchants: () => all<Merchant>('/v1/merchants'),
  createMerchant: (body: { name: string; domain: string }) => post<Merchant>('/v1/merchants', body),

  pools: (merchantId: string) => all<Pool>(`/v1/merchants/${enc(merchantId)}/pools`),
  pool: (poolId: string) => get<Pool>(`/v1/pools/${enc(poolId)}`),
  createPool: (merchantId: string, body: PoolSettings) => post<Pool>(`/v1/merchants/${enc(merchantId)}/pools`, body),
  updatePool: (poolId: string, body: Partial<PoolSettings>) => patch<Pool>(`/v1/pools/${enc(poolId)}`, body),
  uploads: (poolId: string) => get<{ items: Upload[] }>(`/v1/pools/${enc(poolId)}/uploads`).then((r) => r.items),
  generate: (poolId: string, body: { count: number; length: number; prefix?: string; alphabet?: string; expiresOn?: string }) =>
    post<Upload>(`/v1/pools/${enc(poolId)}/generate`, body),
  staticRows: (poolId: string) => get<{ rows: StaticRow[]; warnings: RowProblem[] }>(`/v1/pools/${enc(poolId)}/static-codes`),
  saveStaticRows: (poolId: string, rows: StaticRowInput[]) => put<{ rows: StaticRow[]; warnings: RowProblem[] }>(`/v1/pools/${enc(poolId)}/static-codes`, { rows }),
  validateStaticRows: (poolId: string, rows: StaticRowInput[]) =>
    post<{ valid: boolean; errors: RowProblem[]; warnings: RowProblem[] }>(`/v1/pools/${enc(poolId)}/static-codes/validate`, { rows }),
  assignments: (poolId: string, max = 10_000) => all<Assignment>(`/v1/pools/${enc(poolId)}/assignments`, max),
  assignmentsPage: (poolId: string, cursor: string | undefined, limit = 50) =>
    get<{ items: Assignment[]; nextCursor: string | null }>(`/v1/pools/${enc(poolId)}/assignments?limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`),
  assignmentsExportUrl: (poolId: string) => `/v1/pools/${enc(poolId)}/assignments/export`,

  fieldGroups: () => all<FieldGroup>('/v1/field-groups'),
  createFieldGroup: (name: string) => post<FieldGroup>('/v1/field-groups', { name }),
  addField: (groupId: string, body: { name: string; type: FieldType }) => post<Field>(`/v1/field-groups/${enc(groupId)}/fields`, body),

  contacts: (cursor?: string) => get<Page<Contact>>(`/v1/contacts${qs({ limit: 50, cursor })}`),
  contactByEmail: (email: string) => get<ContactWithRuns>(`/v1/contacts${qs({ email })}`),
  contact: (id: string) => get<ContactWithRuns>(`/v1/contacts/${enc(id)}`),
  upsertContact: (body: { email: string; status?: Contact['status']; fields?: Record<string, Record<string, unknown>> }) => put<Contact>('/v1/contacts', body),

  messages: () => all<Message>('/v1/messages'),
  message: (id: string) => get<Message>(`/v1/messages/${enc(id)}`),
  createMessage: (body: MessageInput) => post<Message>('/v1/messages', body),
  updateMessage: (id: string, body: MessageInput) => put<Message>(`/v1/messages/${enc(id)}`, body),
  preview: (id: string, body: { email?: string; contactId?: string }) => post<Rendered>(`/v1/messages/${enc(id)}/preview`, body),

  conversations: () => all<Conversation>('/v1/conversations'),
  conversation: (id: string) => get<Conversation>(`/v1/conversations/${enc(id)}`),
  createConversation: (body: ConversationInput) => post<Conversation>('/v1/conversations', body),
  updateConversation: (id: string, body: ConversationInput) => put<Conversation>(`/v1/conversations/${enc(id)}`, body),
  commitStep: (id: string, stepId: string) => post<Conversation>(`/v1/conversations/${enc(id)}/steps/${enc(stepId)}/commit`),
  publish: (id: string) => post<{ version: number; warnings: PublishIssue[] }>(`/v1/conversations/${enc(id)}/publish`),
  pause: (id: string) => post<Conversation>(`/v1/conversations/${enc(id)}/pause`),
  resume: (id: string) => post<Conversation>(`/v1/conversations/${enc(id)}/resume`),
  enrollments: (id: string) => get<{ items: Enrollment[] }>(`/v1/conversations/${enc(id)}/enrollments`).then((r) => r.items),
  sendEvent: (body: { type: string; email: string; properties?: Record<string, unknown>; idempotencyKey?: string }) =>
    post<{ contactId: string; enrolled: string[]; exited: string[] }>('/v1/events', body),

  outbox: (to?: string, cursor?: string) => get<Page<Mail>>(`/v1/outbox${qs({ to, cursor, limit: 50 })}`),
  mail: (id: string) => get<Mail>(`/v1/outbox/${enc(id)}`),
};
