/**
 * Message templates: validation against the account's fields, and rendering for one contact.
 * Pure: no I/O. Subject, HTML body and text body are Liquid templates over `contact`
 * (`id`, `email`, `status`) and the field groups, each a top-level variable named after the group
 * (`{{ ShopperInfo.SCA10Off }}`, `{{ ShopperInfo["SCA10Off Expiration"] | date: "%m/%d/%Y" }}`).
 *
 * The engine renders one message for many contacts: a renderer keeps two Liquid engines (HTML
 * escaping on / off) and the parsed templates per source, so a send parses each part once.
 */
import { performance } from 'node:perf_hooks';
import { Context, type Emitter, type Liquid, type Template, type Variable } from 'liquidjs';
import { DomainError } from '../../platform/errors.ts';
import { createEngine, isValidTimeZone, MAX_SOURCE_CHARS } from './liquid.ts';
import { compile, renderSteps, type Step } from './fast-render.ts';

import type { FieldCatalog, TemplateField, TemplateIssue, TemplatePart } from './model.ts';

export type { FieldCatalog, TemplateField, TemplateIssue, TemplatePart };

/** The one top-level variable besides `contact` and the groups: the contact's unsubscribe link. */
export const UNSUBSCRIBE_VARIABLE = 'unsubscribe_url';

export type FieldValue = string | number | boolean | Date | null;

export interface RenderContext {
  contact: { id: string; email: string; status: string };
  /** Values by group name, then field name. Date fields: a `Date` or an ISO-8601 string. */
  fields: Record<string, Record<string, FieldValue>>;
  /** `{{ unsubscribe_url }}`: the contact's signed link ('' where there is none, e.g. a preview). */
  unsubscribeUrl?: string;
}

export interface RenderedMessage {
  subject: string;
  html: string;
  text: string;
}

export type TemplateErrorReason = 'syntax' | 'time_limit' | 'output_limit' | 'memory_limit' | 'render';

/** A template that cannot be parsed or was stopped while rendering. `details` are the issues. */
export class TemplateError extends DomainError {
  constructor(
    readonly reason: TemplateErrorReason,
    message: string,
    readonly issues: TemplateIssue[],
  ) {
    super('invalid', 'template_error', message, issues);
    this.name = 'TemplateError';
  }
}

export const CONTACT_PROPERTIES: readonly string[] = ['id', 'email', 'status'];

// ---------------------------------------------------------------------------------------------
// Errors from liquidjs

interface Located {
  line: number;
  column?: number;
  message: string;
}

interface LiquidLikeError {
  message: string;
  token?: { getPosition(): [number, number] };
  originalError?: unknown;
  errors?: unknown[];
}

const asLiquidError = (e: unknown): LiquidLikeError =>
  (typeof e === 'object' && e !== null ? e : { message: String(e) }) as LiquidLikeError;

/** liquidjs appends `, line:3, col:7` to its messages; we report the position separately. */
const bare = (message: string) => message.replace(/(?:, line:\d+, col:\d+)+$/, '');

function locate(e: unknown): Located {
  const err = asLiquidError(e);
  const position = err.token?.getPosition();
  const cause = err.originalError === undefined ? err : asLiquidError(err.originalError);
  const message = bare(String(cause.message ?? err.message));
  return position ? { line: position[0], column: position[1], message } : { line: 1, message };
}

/** Every parse error in `e` (a single one, or liquidjs' collection when catching them all). */
function parseIssues(e: unknown): Located[] {
  const err = asLiquidError(e);
  if (Array.isArray(err.errors) && err.errors.length > 0) return err.errors.map(locate);
  if (e instanceof RangeError) return [{ line: 1, message: `the template is too deeply nested (${e.message})` }];
  return [locate(e)];
}

class OutputLimitExceeded extends Error {}

function rootCause(e: unknown): unknown {
  let cause = e;
  for (let i = 0; i < 10; i++) {
    const next = asLiquidError(cause).originalError;
    if (next === undefined) break;
    cause = next;
  }
  return cause;
}

function renderFailure(field: TemplateField, e: unknown, limits: { maxRenderMs: number; maxOutputBytes: number }): TemplateError {
  if (e instanceof TemplateError) return e;
  const cause = rootCause(e);
  const where = locate(e);
  const causeMessage = cause instanceof Error ? cause.message : String(cause);
  let reason: TemplateErrorReason = 'render';
  let message: string;
  if (cause instanceof OutputLimitExceeded || (cause instanceof RangeError && /string length/i.test(causeMessage))) {
    reason = 'output_limit';
    message = `the message is larger than ${limits.maxOutputBytes} bytes`;
  } else if (causeMessage.startsWith('template render limit exceeded')) {
    reason = 'time_limit';
    message = `rendering took longer than ${limits.maxRenderMs} ms (a loop too long?)`;
  } else if (causeMessage.startsWith('memory alloc limit exceeded')) {
    reason = 'memory_limit';
    message = 'the template builds too much data (a loop range or a filter result too large)';
  } else {
    message = bare(causeMessage);
  }
  const issue: TemplateIssue = { field, line: where.line, ...(where.column === undefined ? {} : { column: where.column }), message };
  return new TemplateError(reason, `${field}: stopped at line ${where.line}: ${message}`, [issue]);
}

// ---------------------------------------------------------------------------------------------
// Validation

let validationEngine: Liquid | undefined;

function knownNames(catalog: FieldCatalog): Map<string, Set<string>> {
  const groups = new Map<string, Set<string>>();
  for (const group of catalog.groups) groups.set(group.name, new Set(group.fields.map((f) => f.name)));
  return groups;
}

function referenceIssue(variable: Variable, groups: Map<string, Set<string>>): string | undefined {
  const [root, property] = variable.segments;
  if (typeof root !== 'string') return undefined; // `[expr].x`: the inner variable is checked on its own
  if (root === UNSUBSCRIBE_VARIABLE && property === undefined) return undefined;
  // A property given by a variable (`Group[name]`) cannot be checked before rendering.
  const name = property === undefined || typeof property === 'object' ? undefined : String(property);
  if (root === 'contact') {
    if (name === undefined || CONTACT_PROPERTIES.includes(name)) return undefined;
    return `unknown contact property "${name}" (use ${CONTACT_PROPERTIES.map((p) => `contact.${p}`).join(', ')})`;
  }
  const fields = groups.get(root);
  if (!fields) return `unknown field group "${root}"`;
  if (name === undefined || fields.has(name)) return undefined;
  return `unknown field "${name}" in group "${root}"`;
}

/**
 * Problems in a message's templates: syntax errors (also unknown tags and filters, refused
 * `include`/`render`/`layout`), and references to groups or fields the catalog does not have.
 * Empty when the message is fine. Sorted by part, then position.
 */
export function validateTemplates(parts: readonly TemplatePart[], catalog: FieldCatalog): TemplateIssue[] {
  validationEngine ??= createEngine({ escapeHtml: false, timeZone: 'UTC', catchAllErrors: true });
  const engine = validationEngine;
  const groups = knownNames(catalog);
  const issues: TemplateIssue[] = [];
  for (const { field, source } of parts) {
    if (source.length > MAX_SOURCE_CHARS) {
      issues.push({ field, line: 1, message: `the template is longer than ${MAX_SOURCE_CHARS} characters` });
      continue;
    }
    let templates: Template[];
    try {
      templates = engine.parse(source);
    } catch (e) {
      for (const issue of parseIssues(e)) issues.push({ field, ...issue });
      continue;
    }
    const analysis = engine.analyzeSync(templates, { partials: false });
    for (const variables of Object.values(analysis.globals)) {
      for (const variable of variables) {
        const message = referenceIssue(variable, groups);
        if (message) issues.push({ field, line: variable.location.row, column: variable.location.col, message });
      }
    }
  }
  const order: Record<TemplateField, number> = { subject: 0, html: 1, text: 2 };
  return issues.sort((a, b) => order[a.field] - order[b.field] || a.line - b.line || (a.column ?? 0) - (b.column ?? 0));
}

// ---------------------------------------------------------------------------------------------
// Rendering

type Parsed = Step[] | { issues: Located[] };

/**
 * Parsed templates by source, least recently used dropped first, bounded in entries and in
 * characters (a source can be up to MAX_SOURCE_CHARS). Parse errors are kept too, so a broken
 * message fails fast for each of its contacts.
 */
class ParseCache {
  private readonly entries = new Map<string, Parsed>();
  private chars = 0;

  constructor(
    readonly engine: Liquid,
    private readonly maxEntries: number,
    private readonly maxChars: number,
  ) {}

  get(source: string): Parsed {
    const hit = this.entries.get(source);
    if (hit !== undefined) {
      this.entries.delete(source);
      this.entries.set(source, hit);
      return hit;
    }
    let parsed: Parsed;
    try {
      parsed = compile(this.engine.parse(source));
    } catch (e) {
      parsed = { issues: parseIssues(e) };
    }
    this.entries.set(source, parsed);
    this.chars += source.length;
    for (const key of this.entries.keys()) {
      if (this.entries.size <= this.maxEntries && this.chars <= this.maxChars) break;
      if (key === source) continue;
      this.entries.delete(key);
      this.chars -= key.length;
    }
    return parsed;
  }
}

/** Collects output like liquidjs' own emitter, and stops the render once over the budget. */
class BoundedEmitter implements Emitter {
  buffer = '';
  constructor(private readonly maxChars: number) {}

  write(html: unknown): void {
    this.buffer += typeof html === 'string' ? html : toText(html);
    if (this.buffer.length > this.maxChars) throw new OutputLimitExceeded('output limit exceeded');
  }
}

function toText(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (Array.isArray(value)) return value.map(toText).join('');
  return String(value);
}

export interface RendererOptions {
  /** IANA zone name; the `date` filter prints in it. */
  timeZone: string;
  /** Bound on subject + HTML + text, in UTF-8 bytes. Default 1 MB. */
  maxOutputBytes?: number;
  /** Bound on the time to render one message (all parts). Default 1,000 ms. */
  maxRenderMs?: number;
  /** Distinct template sources kept parsed, per engine. Default 500. */
  cacheEntries?: number;
}

export interface Renderer {
  /** Renders the given parts for one contact; a part not given renders as ''. Throws TemplateError only. */
  render(parts: readonly TemplatePart[], context: RenderContext): RenderedMessage;
}

export function createRenderer(options: RendererOptions): Renderer {
  const { timeZone } = options;
  const maxOutputBytes = options.maxOutputBytes ?? 1024 * 1024;
  const maxRenderMs = options.maxRenderMs ?? 1_000;
  if (!isValidTimeZone(timeZone)) throw new DomainError('invalid', 'invalid_time_zone', `unknown time zone "${timeZone}"`);
  const limits = { maxOutputBytes, maxRenderMs };
  // Liquid counts range elements and filter output against memoryLimit; a few times the output bound.
  const memoryLimit = Math.max(1_000_000, 8 * maxOutputBytes);
  const cacheEntries = options.cacheEntries ?? 500;
  const engineOptions = { timeZone, memoryLimit, renderLimitMs: maxRenderMs };
  const html = new ParseCache(createEngine({ ...engineOptions, escapeHtml: true }), cacheEntries, 32 * MAX_SOURCE_CHARS);
  const plain = new ParseCache(createEngine({ ...engineOptions, escapeHtml: false }), cacheEntries, 32 * MAX_SOURCE_CHARS);

  function renderPart(part: TemplatePart, scope: object, deadline: number, outputBudget: number): string {
    const cache = part.field === 'html' ? html : plain;
    const parsed = cache.get(part.source);
    if (!Array.isArray(parsed)) {
      const issues = parsed.issues.map((issue) => ({ field: part.field, ...issue }));
      const first = issues[0];
      throw new TemplateError('syntax', `${part.field}: line ${first?.line ?? 1}: ${first?.message ?? 'invalid template'}`, issues);
    }
    const engine = cache.engine;
    const remainingMs = deadline - performance.now();
    if (remainingMs <= 0) throw renderFailure(part.field, new Error('template render limit exceeded'), limits);
    try {
      const ctx = new Context(scope, engine.options, { sync: true, renderLimit: remainingMs, memoryLimit }, { liquid: engine });
      const emitter = new BoundedEmitter(outputBudget);
      renderSteps(parsed, ctx, emitter);
      return emitter.buffer;
    } catch (e) {
      throw renderFailure(part.field, e, limits);
    }
  }

  return {
    render(parts, context) {
      const deadline = performance.now() + maxRenderMs;
      const { id, email, status } = context.contact;
      // Groups by name, `contact` last: it cannot be shadowed by a group of that name.
      const scope = { ...context.fields, [UNSUBSCRIBE_VARIABLE]: context.unsubscribeUrl ?? '', contact: { id, email, status } };
      const out: RenderedMessage = { subject: '', html: '', text: '' };
      let bytes = 0;
      for (const part of parts) {
        // UTF-8 takes at least one byte per UTF-16 unit: the remaining bytes bound the characters.
        const rendered = renderPart(part, scope, deadline, maxOutputBytes - bytes);
        bytes += Buffer.byteLength(rendered, 'utf8');
        if (bytes > maxOutputBytes) throw renderFailure(part.field, new OutputLimitExceeded(), limits);
        out[part.field] = rendered;
      }
      return out;
    },
  };
}
