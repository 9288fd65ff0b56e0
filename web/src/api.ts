/**
 * The console's one API client: the same REST API as every other client, signed in by the
 * HttpOnly session cookie (never a token in browser storage). Same-origin requests carry the
 * Origin header the server checks on every change.
 */
// The API's shapes are the server's own (src/modules/<area>/model.ts), never restated here.
import type { MerchantJson as Merchant, SessionJson as Session } from '../../src/modules/accounts/model.ts';
import type { AssignmentFilter, AssignmentStatus, ListedAssignmentJson as ListedAssignment } from '../../src/modules/assignments/model.ts';
import type { ConversationInput, ConversationJson, EnrollmentJson, PublishIssue } from '../../src/modules/conductor/model.ts';
import type { ContactJson as Contact, ContactWithRunsJson as ContactWithRuns } from '../../src/modules/contacts/model.ts';
import type { MessageJson as Message, MessageSettings, RenderedJson as Rendered } from '../../src/modules/messages/model.ts';
import type { MailJson as Mail } from '../../src/modules/outbox/model.ts';
import type {
  PoolJson as Pool,
  PoolSettingsInput as PoolSettings,
  RowProblemJson as RowProblem,
  StaticRowInputJson as StaticRowInput,
  StaticRowJson as StaticRow,
} from '../../src/modules/pools/model.ts';
import type { FieldGroupJson as FieldGroup, FieldJson as Field, FieldType } from '../../src/modules/segmentation/model.ts';
import type {
  UndoJson as UndoOutcome,
  UploadDetailJson as UploadDetail,
  UploadJson as Upload,
  UploadOptionsInput,
} from '../../src/modules/uploads/model.ts';
import type { UsageJson as Usage } from '../../src/modules/lifecycle/model.ts';
import type { ErrorBody as ApiErrorBody, Page } from '../../src/platform/shapes.ts';

export type {
  ListedAssignment,
  Contact,
  ContactWithRuns,
  Field,
  FieldGroup,
  FieldType,
  Mail,
  Merchant,
  Message,
  Pool,
  PoolSettings,
  Rendered,
  RowProblem,
  Session,
  StaticRow,
  StaticRowInput,
  UndoOutcome,
  Upload,
  UploadDetail,
  Usage,
};
export type { PoolType } from '../../src/modules/pools/model.ts';
export type { AssignmentStatus };
export type { AssignmentFilter };
export type { TemplateIssue as TemplateProblem } from '../../src/modules/messages/model.ts';
/** A message as the editor sends it (the text body may be left out). */
export type { MessageSettings as MessageInput };
/** The upload dialog's choices: the upload's option fields, each chosen (the expiration date only with `fixed`). */
type UploadChoices = Required<Omit<UploadOptionsInput, 'expiresOn'>> & Pick<UploadOptionsInput, 'expiresOn'>;
export type { UploadChoices as UploadOptions };

export type { ApiErrorBody, Page };

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
  return new ApiError(
    res.status,
    error?.code ?? `http_${res.status}`,
    error?.message ?? `${res.status} ${res.statusText}`,
    error?.details ?? [],
    body,
  );
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
const del = <T>(path: string) => request<T>('DELETE', path);
const enc = encodeURIComponent;
const qs = (params: Record<string, string | number | undefined>) => {
  const entries = Object.entries(params).filter(([, v]) => v !== undefined && v !== '') as [string, string][];
  return entries.length ? `?${new URLSearchParams(entries.map(([k, v]) => [k, String(v)])).toString()}` : '';
};

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
export function uploadCodes(
  poolId: string,
  file: File,
  options: UploadChoices,
  onProgress: (fraction: number) => void,
  signal?: AbortSignal,
): Promise<Upload> {
  const fields: [string, string][] = [['expiration', options.expiration]];
  if (options.expiration === 'file') fields.push(['delimiter', options.delimiter]);
  if (options.expiration === 'fixed' && options.expiresOn) fields.push(['expiresOn', options.expiresOn]);
  fields.push(['onInvalid', options.onInvalid]);
  return postFile<Upload>(`/v1/pools/${enc(poolId)}/uploads`, fields, file, {
    onProgress,
    signal,
    what: 'upload',
    cancelled: 'Upload cancelled: nothing was imported.',
    // A rejected file resolves too: its record (status `rejected`) travels in the 422.
    accepted: (status, body) => {
      const err = body as (ApiErrorBody & { upload?: Upload }) | undefined;
      return status === 422 && err?.error?.code === 'upload_rejected' && err.upload ? err.upload : undefined;
    },
  });
}

/**
 * A multipart POST of option fields then one file, with upload progress (XMLHttpRequest: fetch
 * reports none). Resolves with the 201 answer, or with what `accepted` takes from an error answer
 * (an import's rejected report travels in its 422); rejects with code `cancelled` when `signal` aborts.
 */
export function postFile<T>(
  url: string,
  fields: [string, string][],
  file: File,
  o: {
    onProgress: (fraction: number) => void;
    signal?: AbortSignal | undefined;
    what: string;
    cancelled: string;
    accepted?: (status: number, body: unknown) => T | undefined;
  },
): Promise<T> {
  return new Promise((resolve, reject) => {
    const form = new FormData();
    for (const [name, value] of fields) form.append(name, value);
    form.append('file', file, file.name);
    const xhr = new XMLHttpRequest();
    xhr.open('POST', url);
    xhr.setRequestHeader('accept', 'application/json');
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable) o.onProgress(e.loaded / e.total);
    };
    xhr.onerror = () => reject(new ApiError(0, 'network_error', `The ${o.what} did not reach the server.`, [], undefined));
    xhr.onabort = () => reject(new ApiError(0, 'cancelled', o.cancelled, [], undefined));
    if (o.signal?.aborted) return xhr.onabort(new ProgressEvent('abort'));
    o.signal?.addEventListener('abort', () => xhr.abort(), { once: true });
    xhr.onload = () => {
      let body: unknown;
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        body = undefined;
      }
      if (xhr.status === 201) return resolve(body as T);
      const kept = o.accepted?.(xhr.status, body);
      if (kept !== undefined) return resolve(kept);
      if (xhr.status === 401) onUnauthorized();
      const errBody = body as ApiErrorBody | undefined;
      reject(
        new ApiError(
          xhr.status,
          errBody?.error?.code ?? `http_${xhr.status}`,
          errBody?.error?.message ?? `${o.what} failed (${xhr.status})`,
          errBody?.error?.details ?? [],
          errBody,
        ),
      );
    };
    xhr.send(form);
  });
}

/** A query string of the given (non-empty) values. */
const filterQuery = (values: Record<string, string | undefined>) =>
  new URLSearchParams(Object.entries(values).filter((e): e is [string, string] => Boolean(e[1]))).toString();

export const api = {
  session: () => get<Session>('/v1/session'),
  signIn: (token: string) => post<Session>('/v1/session', { token }),
  signOut: () => request<void>('DELETE', '/v1/session'),

  merchants: () => all<Merchant>('/v1/merchants'),
  createMerchant: (body: { name: string; domain: string }) => post<Merchant>('/v1/merchants', body),

  /** Every pool of a merchant in use (the pickers). */
  pools: (merchantId: string) => all<Pool>(`/v1/merchants/${enc(merchantId)}/pools`),
  /** A page of a merchant's pools; `archived`: of its archived pools (listed apart) instead. */
  poolsPage: (merchantId: string, archived: boolean, cursor: string | undefined) =>
    get<Page<Pool>>(`/v1/merchants/${enc(merchantId)}/pools${qs({ archived: archived ? 'true' : undefined, limit: 50, cursor })}`),
  pool: (poolId: string) => get<Pool>(`/v1/pools/${enc(poolId)}`),
  createPool: (merchantId: string, body: PoolSettings) => post<Pool>(`/v1/merchants/${enc(merchantId)}/pools`, body),
  updatePool: (poolId: string, body: Partial<PoolSettings>) => patch<Pool>(`/v1/pools/${enc(poolId)}`, body),
  uploads: (poolId: string) => get<{ items: Upload[] }>(`/v1/pools/${enc(poolId)}/uploads`).then((r) => r.items),
  upload: (uploadId: string) => get<UploadDetail>(`/v1/uploads/${enc(uploadId)}`),
  undoUpload: (uploadId: string) => request<UndoOutcome>('DELETE', `/v1/uploads/${enc(uploadId)}`),
  archivePool: (poolId: string, archive: boolean) => post<Pool>(`/v1/pools/${enc(poolId)}/${archive ? 'archive' : 'unarchive'}`),
  generate: (poolId: string, body: { count: number; length: number; prefix?: string; alphabet?: string; expiresOn?: string }) =>
    post<Upload>(`/v1/pools/${enc(poolId)}/generate`, body),
  staticRows: (poolId: string) => get<{ rows: StaticRow[]; warnings: RowProblem[] }>(`/v1/pools/${enc(poolId)}/static-codes`),
  saveStaticRows: (poolId: string, rows: StaticRowInput[]) =>
    put<{ rows: StaticRow[]; warnings: RowProblem[] }>(`/v1/pools/${enc(poolId)}/static-codes`, { rows }),
  validateStaticRows: (poolId: string, rows: StaticRowInput[]) =>
    post<{ valid: boolean; errors: RowProblem[]; warnings: RowProblem[] }>(`/v1/pools/${enc(poolId)}/static-codes/validate`, { rows }),
  assignments: (poolId: string, max = 10_000) => all<ListedAssignment>(`/v1/pools/${enc(poolId)}/assignments`, max),
  assignmentsPage: (poolId: string, cursor: string | undefined, limit = 50, filter: AssignmentFilter = {}) =>
    get<{ items: ListedAssignment[]; nextCursor: string | null }>(
      `/v1/pools/${enc(poolId)}/assignments?${filterQuery({ limit: String(limit), cursor, ...filter })}`,
    ),
  assignmentsExportUrl: (poolId: string, filter: AssignmentFilter = {}) =>
    `/v1/pools/${enc(poolId)}/assignments/export${filterQuery({ ...filter }) ? `?${filterQuery({ ...filter })}` : ''}`,

  fieldGroups: () => all<FieldGroup>('/v1/field-groups'),
  createFieldGroup: (name: string) => post<FieldGroup>('/v1/field-groups', { name }),
  addField: (groupId: string, body: { name: string; type: FieldType }) => post<Field>(`/v1/field-groups/${enc(groupId)}/fields`, body),
  deleteField: (groupId: string, fieldId: string) =>
    del<{ fieldsDeleted: number; valuesRemoved: number }>(`/v1/field-groups/${enc(groupId)}/fields/${enc(fieldId)}`),
  deleteFieldGroup: (groupId: string) => del<{ fieldsDeleted: number; valuesRemoved: number }>(`/v1/field-groups/${enc(groupId)}`),

  contacts: (cursor?: string) => get<Page<Contact>>(`/v1/contacts${qs({ limit: 50, cursor })}`),
  contactByEmail: (email: string) => get<ContactWithRuns>(`/v1/contacts${qs({ email })}`),
  contact: (id: string) => get<ContactWithRuns>(`/v1/contacts/${enc(id)}`),
  upsertContact: (body: { email: string; status?: Contact['status']; fields?: Record<string, Record<string, unknown>> }) =>
    put<Contact>('/v1/contacts', body),

  messages: () => all<Message>('/v1/messages'),
  message: (id: string) => get<Message>(`/v1/messages/${enc(id)}`),
  createMessage: (body: MessageSettings) => post<Message>('/v1/messages', body),
  updateMessage: (id: string, body: MessageSettings) => put<Message>(`/v1/messages/${enc(id)}`, body),
  deleteMessage: (id: string) => del<void>(`/v1/messages/${enc(id)}`),
  preview: (id: string, body: { email?: string; contactId?: string }) => post<Rendered>(`/v1/messages/${enc(id)}/preview`, body),

  conversations: () => all<ConversationJson>('/v1/conversations'),
  archivedConversations: () => all<ConversationJson>('/v1/conversations?archived=true'),
  deleteConversation: (id: string) => del<void>(`/v1/conversations/${enc(id)}`),
  archiveConversation: (id: string) => post<ConversationJson>(`/v1/conversations/${enc(id)}/archive`),
  unarchiveConversation: (id: string) => post<ConversationJson>(`/v1/conversations/${enc(id)}/unarchive`),
  conversation: (id: string) => get<ConversationJson>(`/v1/conversations/${enc(id)}`),
  createConversation: (body: ConversationInput) => post<ConversationJson>('/v1/conversations', body),
  updateConversation: (id: string, body: ConversationInput) => put<ConversationJson>(`/v1/conversations/${enc(id)}`, body),
  commitStep: (id: string, stepId: string) => post<ConversationJson>(`/v1/conversations/${enc(id)}/steps/${enc(stepId)}/commit`),
  publish: (id: string) => post<{ version: number; warnings: PublishIssue[] }>(`/v1/conversations/${enc(id)}/publish`),
  pause: (id: string) => post<ConversationJson>(`/v1/conversations/${enc(id)}/pause`),
  resume: (id: string) => post<ConversationJson>(`/v1/conversations/${enc(id)}/resume`),
  enrollments: (id: string) => get<{ items: EnrollmentJson[] }>(`/v1/conversations/${enc(id)}/enrollments`).then((r) => r.items),
  sendEvent: (body: { type: string; email: string; properties?: Record<string, unknown>; idempotencyKey?: string }) =>
    post<{ contactId: string; enrolled: string[]; exited: string[] }>('/v1/events', body),

  outbox: (to?: string, cursor?: string) => get<Page<Mail>>(`/v1/outbox${qs({ to, cursor, limit: 50 })}`),
  mail: (id: string) => get<Mail>(`/v1/outbox/${enc(id)}`),
};
