import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { fieldReference, quoteName, snippetFor } from './snippets.ts';
import { createRenderer, validateTemplates } from './template.ts';

describe('snippets', () => {
  it('uses dot notation for identifiers and brackets for other names', () => {
    expect(snippetFor('ShopperInfo', 'SCA10Off', 'text')).toBe('{{ ShopperInfo.SCA10Off }}');
    expect(snippetFor('ShopperInfo', 'SCA10Off Expiration', 'date')).toBe('{{ ShopperInfo["SCA10Off Expiration"] | date: "%m/%d/%Y" }}');
    expect(snippetFor('Shopper Info', 'points', 'number')).toBe('{{ ["Shopper Info"].points }}');
    expect(snippetFor('true', 'x', 'boolean')).toBe('{{ ["true"].x }}');
    expect(fieldReference('G', 'a-b')).toBe('G["a-b"]');
    expect(quoteName('say "hi" \\ \n')).toBe('"say \\"hi\\" \\\\ \\u000a"');
  });

  it('every snippet validates against its field and renders its value (any names)', () => {
    const name = fc.string({ minLength: 1, maxLength: 12 }).filter((s) => s !== 'contact' && !s.includes('.'));
    const renderer = createRenderer({ timeZone: 'UTC' });
    fc.assert(
      fc.property(
        name,
        name,
        fc.constantFrom('text', 'number', 'boolean', 'date') as fc.Arbitrary<'text' | 'number' | 'boolean' | 'date'>,
        (group, field, type) => {
          const snippet = snippetFor(group, field, type);
          const catalog = { groups: [{ name: group, fields: [{ name: field, type }] }] };
          expect(validateTemplates([{ field: 'text', source: snippet }], catalog)).toEqual([]);
          const value = { text: 'v<1>', number: 42.5, boolean: true, date: '2026-05-01' }[type];
          const out = renderer.render([{ field: 'text', source: snippet }], {
            contact: { id: 'c', email: 'e@x', status: 'subscribed' },
            fields: { [group]: { [field]: value } },
          });
          expect(out.text).toBe({ text: 'v<1>', number: '42.5', boolean: 'true', date: '05/01/2026' }[type]);
        },
      ),
      { numRuns: 300 },
    );
  });
});
