import { describe, expect, it } from 'vitest';
import { newId, newIds } from './ids.ts';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('newIds', () => {
  it('gives distinct UUIDv7 ids in increasing order, after the ids of earlier milliseconds', () => {
    const before = newId();
    const ids = newIds(10_000, Date.now() + 1);
    for (const id of ids) expect(id).toMatch(UUID_V7);
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
    expect(before < ids[0]!).toBe(true);
    expect(newIds(0)).toEqual([]);
  });
});
