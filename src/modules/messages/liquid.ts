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

const DATE_CACHE_ENTRIES = 4_096;

/** A Map that starts afresh once full: enough for the handful of dates a send repeats. */
class BoundedMap<K, V> extends Map<K, V> {
  constructor(private readonly limit: number) {
    super();
  }
  override set(key: K, value: V): this {
    if (this.size >= this.limit) this.clear();
    return super.set(key, value);
  }
}

/** The instant liquidjs' `date` filter would read from `value` (NaN when it reads none). */
function epochMillis(value: unknown): number {
  if (value instanceof Date) return value.getTime();
  if (typeof value === 'number') return value * 1000;
  if (typeof value === 'string') {
    if (value === 'now' || value === 'today') return Date.now();
    if (/^\d+$/.test(value)) return Number(value) * 1000;
    return new Date(value).getTime();
  }
  return Number.NaN;
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
  const accountZone = IANAZone.create(options.timeZone);
  // A send renders the same few dates (a campaign's expirations) thousands of times: remember
  // what each value means, and the zone's offset at each instant. luxon's `offset` formats the
  // instant through Intl on every call (~3 µs); liquidjs resolving a zone name costs ~100 µs.
  const instants = new BoundedMap<string, number>(DATE_CACHE_ENTRIES);
  const offsets = new BoundedMap<number, number>(DATE_CACHE_ENTRIES);
  liquid.registerFilter('date', function date(this: ThisParameterType<typeof dateHandler>, value: unknown, ...args: unknown[]) {
    const [format, zoneArgument] = args;
    if (zoneArgument !== undefined || (typeof format === 'string' && format.includes('%Z'))) {
      // A zone given in the template, or its name printed: liquidjs' own (slow) zone handling.
      const zone = typeof zoneArgument === 'string' && isValidTimeZone(zoneArgument) ? zoneArgument : options.timeZone;
      return dateHandler.call(this, toInstant(value, zone), ...args);
    }
    let millis: number;
    if (typeof value === 'string' && value !== 'now' && value !== 'today') {
      let known = instants.get(value);
      if (known === undefined) {
        known = epochMillis(toInstant(value, options.timeZone));
        instants.set(value, known);
      }
      millis = known;
    } else {
      millis = epochMillis(value);
    }
    if (Number.isNaN(millis)) return dateHandler.call(this, value, ...args);
    let offset = offsets.get(millis);
    if (offset === undefined) {
      offset = accountZone.offset(millis);
      offsets.set(millis, offset);
    }
    // The offset in minutes, with the sign of Date#getTimezoneOffset, prints what the zone name would.
    return dateHandler.call(this, new Date(millis), format, -offset);
  });
  return liquid;
}
