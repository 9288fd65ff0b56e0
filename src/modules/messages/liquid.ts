/**
 * The one place where a Liquid engine is configured for messages. Validation and rendering both
 * build their engines here, so a template that validates parses the same way when it is sent.
 *
 * What a template can reach: the render scope (field groups and `contact`), Liquid's standard
 * filters and tags, nothing else.
 * - no files: `include`, `render` and `layout` are refused when parsing, and the engine's file
 *   system answers "no such file" to everything (defence in depth, never reached);
 * - no globals, and `ownPropertyOnly`: `contact.constructor` and friends read as empty;
 * - unknown filters and tags are parse errors (`strictFilters`; unknown tags always are);
 * - every parse and render is bounded: `parseLimit` (characters), `memoryLimit` (Liquid's count of
 *   allocated items: range elements, filter output), `renderLimit` (milliseconds, checked before
 *   each node, so inside every loop iteration). The output size is bounded by the renderer.
 */
import { DateTime, IANAZone } from 'luxon';
import { Liquid, Tag, type FS, type FilterImplOptions, type TagToken, type TopLevelToken } from 'liquidjs';

/** Longest template source accepted (characters). Email bodies beyond ~100 KB get clipped anyway. */
export const MAX_SOURCE_CHARS = 512 * 1024;

export interface EngineOptions {
  /** HTML-escape every `{{ }}` / `echo` output (the HTML body), unless it ends in `| raw`. */
  escapeHtml: boolean;
  /** IANA zone for the `date` filter. */
  timeZone: string;
  /** Report every parse error of a template rather than the first (validation). */
  catchAllErrors?: boolean;
  memoryLimit?: number;
  renderLimitMs?: number;
}

const REFUSED_TAGS = ['include', 'render', 'layout'] as const;

const NO_FILES: FS = {
  exists: () => Promise.resolve(false),
  existsSync: () => false,
  readFile: (file) => Promise.reject(new Error(`templates cannot read files (${file})`)),
  readFileSync: (file) => {
    throw new Error(`templates cannot read files (${file})`);
  },
  resolve: (_dir, file) => file,
  contains: () => Promise.resolve(false),
  containsSync: () => false,
  sep: '/',
  dirname: () => '',
};

function refusedTag(name: string) {
  return class RefusedTag extends Tag {
    constructor(token: TagToken, remainTokens: TopLevelToken[], liquid: Liquid) {
      super(token, remainTokens, liquid);
      throw new Error(`the "${name}" tag is not available: a message cannot include other templates or files`);
    }
    render(): void {}
  };
}

export function isValidTimeZone(zone: string): boolean {
  return IANAZone.isValidZone(zone);
}

/** A date without an offset: `2024-03-15`, `2024-03-15T10:00`, `2024-03-15 10:00:00.000`. */
const LOCAL_ISO = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)?$/;

/**
 * Date field values arrive as `Date`s (instants) or ISO strings. A string without an offset is a
 * wall-clock time (or a calendar day) in the account's zone: `2024-03-15` must print as 03/15/2024
 * in New York, not as the day before (which is what `new Date('2024-03-15')` would give).
 */
export function toInstant(value: unknown, zone: string): unknown {
  if (typeof value !== 'string' || !LOCAL_ISO.test(value)) return value;
  const parsed = DateTime.fromISO(value.replace(' ', 'T'), { zone });
  return parsed.isValid ? parsed.toJSDate() : value;
}

export function createEngine(options: EngineOptions): Liquid {
  const liquid = new Liquid({
    strictFilters: true,
    strictVariables: false,
    ownPropertyOnly: true,
    outputEscape: options.escapeHtml ? 'escape' : undefined,
    timezoneOffset: options.timeZone,
    locale: 'en-US',
    fs: NO_FILES,
    relativeReference: false,
    dynamicPartials: false,
    catchAllErrors: options.catchAllErrors ?? false,
    parseLimit: MAX_SOURCE_CHARS,
    memoryLimit: options.memoryLimit ?? 8_000_000,
    renderLimit: options.renderLimitMs ?? 1_000,
  });
  for (const name of REFUSED_TAGS) liquid.registerTag(name, refusedTag(name));

  const builtinDate: FilterImplOptions | undefined = liquid.filters['date'];
  if (!builtinDate) throw new Error('liquidjs has no date filter');
  const dateHandler = typeof builtinDate === 'function' ? builtinDate : builtinDate.handler;
  liquid.registerFilter('date', function date(this: ThisParameterType<typeof dateHandler>, value: unknown, ...args: unknown[]) {
    const zone = typeof args[1] === 'string' && isValidTimeZone(args[1]) ? args[1] : options.timeZone;
    return dateHandler.call(this, toInstant(value, zone), ...args);
  });
  return liquid;
}
