import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DateTime } from 'luxon';
import { createRenderer, TemplateError, validateTemplates, type FieldCatalog, type RenderContext, type TemplatePart } from './template.ts';

const catalog: FieldCatalog = {
  groups: [
    {
      name: 'ShopperInfo',
      fields: [
        { name: 'SCA10Off', type: 'text' },
        { name: 'SCA10Off Expiration', type: 'date' },
        { name: 'Points', type: 'number' },
        { name: 'VIP', type: 'boolean' },
      ],
    },
  ],
};

const context = (values: Record<string, unknown> = {}): RenderContext => ({
  contact: { id: 'c1', email: 'ann@example.com', status: 'subscribed' },
  fields: { ShopperInfo: { SCA10Off: 'SAVE10', 'SCA10Off Expiration': '2026-03-15', Points: 1250, VIP: true, ...values } as never },
});

const html = (source: string): TemplatePart[] => [{ field: 'html', source }];

describe('validateTemplates', () => {
  it('accepts known groups, fields and contact properties', () => {
    const source =
      '{{ contact.email }} {{ ShopperInfo.SCA10Off }} {{ ShopperInfo["SCA10Off Expiration"] | date: "%m/%d/%Y" }}{% if ShopperInfo.VIP %}{{ ShopperInfo.Points | plus: 1 }}{% endif %}';
    expect(
      validateTemplates(
        [
          { field: 'subject', source },
          { field: 'html', source },
        ],
        catalog,
      ),
    ).toEqual([]);
  });

  it('reports unknown groups, fields and contact properties with their position', () => {
    const issues = validateTemplates(
      [
        { field: 'html', source: 'Hello\n  {{ Nope.x }} {{ ShopperInfo.Missing }}\n{{ contact.phone }}' },
        { field: 'subject', source: '{{ ShopperInfo["Also Missing"] }}' },
      ],
      catalog,
    );
    expect(issues).toEqual([
      { field: 'subject', line: 1, column: 4, message: 'unknown field "Also Missing" in group "ShopperInfo"' },
      { field: 'html', line: 2, column: 6, message: 'unknown field group "Nope"' },
      { field: 'html', line: 2, column: 19, message: 'unknown field "Missing" in group "ShopperInfo"' },
      { field: 'html', line: 3, column: 4, message: expect.stringContaining('unknown contact property "phone"') },
    ]);
  });

  it('reports syntax errors, unknown filters and tags, and refuses includes, with line and column', () => {
    const issues = validateTemplates(
      [
        { field: 'html', source: 'ok\nok {% if %}' },
        { field: 'text', source: '{{ contact.email | shout }}' },
        { field: 'subject', source: '{% include "secrets.liquid" %}' },
      ],
      catalog,
    );
    expect(issues.map((i) => [i.field, i.line])).toEqual([
      ['subject', 1],
      ['html', 2],
      ['text', 1],
    ]);
    expect(issues[0]!.message).toMatch(/include.*not available/);
    expect(issues[1]!.column).toBeGreaterThan(0);
    expect(issues[2]!.message).toMatch(/undefined filter: shout/);
    for (const tag of ['render', 'layout']) {
      expect(validateTemplates(html(`{% ${tag} "x" %}`), catalog)[0]!.message).toMatch(/not available/);
    }
    expect(validateTemplates(html('{% unknowntag %}'), catalog)).toHaveLength(1);
    expect(validateTemplates(html('{{ unclosed'), catalog)).toHaveLength(1);
  });
});

describe('rendering', () => {
  const renderer = createRenderer({ timeZone: 'America/New_York' });

  it('renders every field type', () => {
    const source =
      'Code {{ ShopperInfo.SCA10Off }} until {{ ShopperInfo["SCA10Off Expiration"] | date: "%m/%d/%Y" }}; {{ ShopperInfo.Points }} points; VIP {{ ShopperInfo.VIP }}{% if ShopperInfo.VIP %} (yes){% endif %}; {{ contact.email }}';
    const out = renderer.render(
      [
        { field: 'subject', source: 'Hi {{ contact.email }}' },
        { field: 'html', source },
        { field: 'text', source },
      ],
      context(),
    );
    const expected = 'Code SAVE10 until 03/15/2026; 1250 points; VIP true (yes); ann@example.com';
    expect(out).toEqual({ subject: 'Hi ann@example.com', html: expected, text: expected });
    // A value not set renders empty.
    expect(renderer.render(html('[{{ ShopperInfo.SCA10Off }}]'), { ...context(), fields: { ShopperInfo: {} } }).html).toBe('[]');
  });

  it('escapes field values in the HTML body only (raw opts out)', () => {
    const injected = context({ SCA10Off: '<script>alert("x")</script>&' });
    const parts: TemplatePart[] = [
      { field: 'subject', source: '{{ ShopperInfo.SCA10Off }}' },
      { field: 'html', source: '<p>{{ ShopperInfo.SCA10Off }}</p>' },
      { field: 'text', source: '{{ ShopperInfo.SCA10Off }}' },
    ];
    const out = renderer.render(parts, injected);
    expect(out.html).toBe('<p>&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&amp;</p>');
    expect(out.text).toBe('<script>alert("x")</script>&');
    expect(out.subject).toBe('<script>alert("x")</script>&');
  });

  it('prints dates in the account time zone', () => {
    const at = (value: string, zone: string, format = '%Y-%m-%d %H:%M') =>
      createRenderer({ timeZone: zone }).render(
        html(`{{ ShopperInfo["SCA10Off Expiration"] | date: "${format}" }}`),
        context({ 'SCA10Off Expiration': value }),
      ).html;
    expect(at('2026-03-15', 'America/New_York')).toBe('2026-03-15 00:00');
    expect(at('2026-03-15', 'Asia/Tokyo')).toBe('2026-03-15 00:00');
    expect(at('2026-07-01T03:30:00.000Z', 'America/New_York')).toBe('2026-06-30 23:30');
    expect(at('2026-07-01T03:30:00.000Z', 'Europe/Paris')).toBe('2026-07-01 05:30');
    expect(at('2026-07-01T03:30:00.000Z', 'Europe/Paris', '%H:%M %z')).toBe('05:30 +0200');
  });

  it('prints the same as luxon for any instant and zone (the cached-offset fast path)', () => {
    const zones = ['UTC', 'America/New_York', 'Europe/Paris', 'Australia/Lord_Howe', 'Asia/Kolkata', 'America/Sao_Paulo'];
    const renderers = new Map(zones.map((z) => [z, createRenderer({ timeZone: z })]));
    fc.assert(
      fc.property(fc.constantFrom(...zones), fc.integer({ min: Date.UTC(1990, 0, 1), max: Date.UTC(2060, 0, 1) }), (zone, ms) => {
        const iso = new Date(ms).toISOString();
        const out = renderers
          .get(zone)!
          .render(html(`{{ ShopperInfo["SCA10Off Expiration"] | date: "%Y-%m-%d %H:%M" }}`), context({ 'SCA10Off Expiration': iso })).html;
        expect(out).toBe(DateTime.fromMillis(ms, { zone }).toFormat('yyyy-MM-dd HH:mm'));
      }),
      { numRuns: 500 },
    );
  });

  it('stops a template that loops forever, with a clear error', () => {
    const fast = createRenderer({ timeZone: 'UTC', maxRenderMs: 200 });
    const loop = '{% for i in (1..100000) %}{% for j in (1..100000) %}{{ j }}{% endfor %}{% endfor %}';
    let error: unknown;
    try {
      fast.render(html(loop), context());
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(TemplateError);
    expect((error as TemplateError).reason).toMatch(/time_limit|output_limit/);
    const quiet = '{% for i in (1..100000) %}{% for j in (1..100000) %}{% endfor %}{% endfor %}';
    expect(() => fast.render(html(quiet), context())).toThrow(/rendering took longer than 200 ms/);
  });

  it('stops a template that renders megabytes, or builds huge data, with a clear error', () => {
    const r = createRenderer({ timeZone: 'UTC', maxOutputBytes: 100_000 });
    const big = '{% for i in (1..1000000) %}0123456789{% endfor %}';
    expect(() => r.render(html(big), context())).toThrow(/larger than 100000 bytes/);
    try {
      r.render(
        [
          { field: 'subject', source: 'x' },
          { field: 'text', source: big },
        ],
        context(),
      );
    } catch (e) {
      expect(e).toMatchObject({ code: 'template_error', reason: 'output_limit', issues: [{ field: 'text', line: 1 }] });
    }
    const doubling = '{% assign s = "xxxxxxxxxx" %}{% for i in (1..40) %}{% assign s = s | append: s %}{% endfor %}{{ s | size }}';
    expect(() => r.render(html(doubling), context())).toThrow(/too much data/);
    expect(() => r.render(html('{% for i in (1..1000000000) %}{% endfor %}'), context())).toThrow(/too much data/);
  });

  it('reaches nothing outside the scope', () => {
    const out = renderer.render(html('[{{ contact.constructor }}][{{ contact.__proto__ }}][{{ process.env }}][{{ global }}]'), context());
    expect(out.html).toBe('[][][][]');
    expect(() => renderer.render(html('{% include "/etc/passwd" %}'), context())).toThrow(TemplateError);
  });
});

describe('the direct path for merge tags (fast-render.ts)', () => {
  it('prints what liquidjs prints, for any mix of merge tags, filters, tags and values', async () => {
    const { createEngine } = await import('./liquid.ts');
    const outputs = [
      '{{ G.a }}',
      '{{ G["b c"] }}',
      '{{ G.a | upcase }}',
      '{{ G.a | default: "none" }}',
      '{{ G.n | plus: 2 | times: 1.5 }}',
      '{{ G.d | date: "%Y-%m-%d %H:%M" }}',
      '{{ G.list | join: ", " }}',
      '{{ G.list.first }}',
      '{{ G.list.size }}',
      '{{ G.a | raw }}',
      '{{ G.a | truncate: 5 }}',
      '{{ contact.email }}',
      '{{ missing.x }}',
      '{% if G.flag %}yes{% else %}no{% endif %}',
      '{% for x in G.list %}[{{ x }}]{% endfor %}',
      '{% assign G = "shadow" %}{{ G }}',
      '{{ G[G.key] }}',
      '{{ G.n | minus: G.n }}',
      ' <b>&</b> ',
    ];
    const value = fc.oneof(
      fc.string({ maxLength: 8 }),
      fc.constantFrom('<script>"x"&\'', '', 'a b'),
      fc.integer(),
      fc.double({ noNaN: true, noDefaultInfinity: true }),
      fc.boolean(),
      fc.constant(null),
    );
    const zone = 'Europe/Paris';
    const reference = createEngine({ escapeHtml: true, timeZone: zone });
    const renderer = createRenderer({ timeZone: zone });
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom(...outputs), { minLength: 1, maxLength: 8 }),
        value,
        fc.oneof(fc.integer(), fc.constant('7')),
        fc.array(fc.oneof(fc.string({ maxLength: 4 }), fc.integer()), { maxLength: 4 }),
        fc.boolean(),
        fc.constantFrom('2026-03-29', '2026-03-29T01:30:00.000Z', 'not a date', ''),
        (parts, a, n, list, flag, d) => {
          const source = parts.join('');
          const fields = { G: { a, 'b c': a, n, list, flag, d, key: 'a' } };
          const contact = { id: 'c', email: 'e<@>x', status: 'subscribed' };
          const expected = reference.parseAndRenderSync(source, { ...fields, contact });
          const out = renderer.render([{ field: 'html', source }], { contact, fields } as never).html;
          expect(out).toBe(expected);
        },
      ),
      { numRuns: 400 },
    );
  });
});
