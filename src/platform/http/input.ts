import { DomainError } from '../errors.ts';

/**
 * Input refused on every route before a schema sees it, because no schema would think of it and
 * PostgreSQL cannot store it (a 500 otherwise): NUL characters and lone UTF-16 surrogates in any
 * string or key, JSON nested deeper than MAX_JSON_DEPTH, numbers too large to be finite.
 */

/**
 * Deepest JSON accepted. The deepest legitimate document is a conversation with splits nested 5
 * levels, each holding conditions: about 35 levels. 64 leaves room and stops recursion bombs.
 */
export const MAX_JSON_DEPTH = 64;

/** Why a string cannot be taken, or null. */
export function stringProblem(s: string): string | null {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0) return 'contains a NUL character (U+0000), which cannot be stored';
    if (c >= 0xd800 && c <= 0xdbff) {
      const low = s.charCodeAt(i + 1);
      if (low >= 0xdc00 && low <= 0xdfff) {
        i++;
        continue;
      }
      return 'contains a lone surrogate (not valid Unicode)';
    }
    if (c >= 0xdc00 && c <= 0xdfff) return 'contains a lone surrogate (not valid Unicode)';
  }
  return null;
}

const join = (path: string, key: string | number) => (path === '' ? String(key) : `${path}.${key}`);

function refuse(part: string, path: string, message: string): never {
  const field = [part, path].filter(Boolean).join('.') || '(body)';
  throw new DomainError('invalid', 'validation_failed', `${field}: ${message}`, [{ field, message }]);
}

/** Checks a parsed JSON value (iteratively: the depth check must not itself overflow the stack). */
export function checkJsonValue(value: unknown, part = ''): void {
  const stack: { value: unknown; path: string; depth: number }[] = [{ value, path: '', depth: 0 }];
  while (stack.length > 0) {
    const { value: v, path, depth } = stack.pop()!;
    if (typeof v === 'string') {
      const problem = stringProblem(v);
      if (problem) refuse(part, path, problem);
    } else if (typeof v === 'number') {
      if (!Number.isFinite(v)) refuse(part, path, 'is a number too large to be represented');
    } else if (v !== null && typeof v === 'object') {
      if (depth >= MAX_JSON_DEPTH) {
        throw new DomainError('malformed', 'json_too_deep', `The JSON body is nested deeper than ${MAX_JSON_DEPTH} levels.`);
      }
      if (Array.isArray(v)) {
        for (let i = 0; i < v.length; i++) stack.push({ value: v[i], path: join(path, i), depth: depth + 1 });
      } else {
        for (const [key, child] of Object.entries(v as Record<string, unknown>)) {
          if (key === '__proto__' || (key === 'constructor' && child !== null && typeof child === 'object' && 'prototype' in child)) {
            // Prototype poisoning, refused as Fastify's own parser does.
            throw new DomainError('malformed', 'malformed_request', 'The body holds a forbidden prototype property.');
          }
          const problem = stringProblem(key);
          if (problem) refuse(part, join(path, JSON.stringify(key)), `the key ${problem}`);
          stack.push({ value: child, path: join(path, key), depth: depth + 1 });
        }
      }
    }
  }
}

/** A JSON request body: 400 when it is not JSON (or poisons prototypes, or is too deep), 422 for what checkJsonValue refuses. */
export function parseJsonBody(text: string): unknown {
  if (text.trim() === '')
    throw new DomainError('malformed', 'malformed_request', "Body cannot be empty when content-type is set to 'application/json'");
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new DomainError('malformed', 'malformed_request', `The body is not valid JSON: ${(err as Error).message}`);
  }
  checkJsonValue(value);
  return value;
}

/** Params or query strings (strings or arrays of them, as Fastify parses them). */
export function checkRequestStrings(values: unknown, part: 'params' | 'querystring'): void {
  if (!values || typeof values !== 'object') return;
  for (const [key, value] of Object.entries(values as Record<string, unknown>)) {
    for (const s of Array.isArray(value) ? value : [value]) {
      if (typeof s !== 'string') continue;
      const problem = stringProblem(s) ?? (stringProblem(key) && `the name ${stringProblem(key)}`);
      if (problem)
        throw new DomainError('malformed', 'malformed_request', `${part}.${key}: ${problem}`, [
          { field: `${part}.${key}`, message: problem },
        ]);
    }
  }
}
