/**
 * Rendering a parsed template without liquidjs' generator machinery where it is not needed.
 *
 * liquidjs evaluates every `{{ }}` through ~8 nested generators (output → value → expression →
 * property access → scope lookup → each filter), drained by `toValueSync`: for a message of a few
 * merge tags that is most of the time spent (a send renders one message for many contacts). The
 * common case, a variable path of literal names with filters whose arguments are literals
 * (`{{ ShopperInfo["Expires on"] | date: "%m/%d/%Y" }}`), is evaluated here directly, with the
 * same scope lookup (`Context#getSync`: assigns, loop variables, `ownPropertyOnly`), the same
 * filter functions (the engine's, `escape` appended for the HTML body) and the same checks of the
 * render limit. Everything else (tags, operators, ranges, `[variable]` lookups) goes through
 * liquidjs itself. `template.test.ts` checks both paths print the same.
 */
import { Output, RenderError, TokenKind, toValue, toValueSync, type Context, type Emitter, type Template } from 'liquidjs';

interface FilterStep {
  handler: (...args: unknown[]) => unknown;
  self: { token: unknown; liquid: unknown };
  args: unknown[];
}

export type Step =
  | { kind: 'html'; str: string }
  | { kind: 'output'; path: (string | number)[]; filters: FilterStep[]; tpl: Template }
  | { kind: 'liquid'; tpl: Template };

interface TokenLike {
  content?: unknown;
  kind?: number;
  variable?: unknown;
  props?: TokenLike[];
}

const literal = (token: unknown): token is { content: string | number } => {
  const content = (token as TokenLike | undefined)?.content;
  return typeof content === 'string' || typeof content === 'number';
};

function outputStep(tpl: Output): Step | null {
  const postfix = (tpl.value.initial as unknown as { postfix: TokenLike[] }).postfix;
  const token = postfix.length === 1 ? postfix[0] : undefined;
  if (!token || token.kind !== TokenKind.PropertyAccess || token.variable || !token.props?.every(literal)) return null;
  const filters: FilterStep[] = [];
  for (const filter of tpl.value.filters as unknown as { handler: unknown; args: unknown[]; token: unknown; liquid: unknown }[]) {
    const args = filter.args;
    if (!args.every((a) => !Array.isArray(a) && literal(a))) return null;
    filters.push({
      handler: filter.handler as (...args: unknown[]) => unknown,
      self: { token: filter.token, liquid: filter.liquid },
      args: args.map((a) => (a as { content: unknown }).content),
    });
  }
  return { kind: 'output', path: token.props.map((p) => p.content as string | number), filters, tpl };
}

export function compile(templates: readonly Template[]): Step[] {
  return templates.map((tpl): Step => {
    if (tpl.token.kind === TokenKind.HTML) return { kind: 'html', str: (tpl as unknown as { str: string }).str };
    if (tpl instanceof Output) return outputStep(tpl) ?? { kind: 'liquid', tpl };
    return { kind: 'liquid', tpl };
  });
}

/** Like liquidjs' `Render#renderTemplates`, synchronously, for top-level steps. */
export function renderSteps(steps: readonly Step[], ctx: Context, emitter: Emitter): void {
  for (const step of steps) {
    ctx.renderLimit.check(performance.now());
    if (step.kind === 'html') {
      emitter.write(step.str);
      continue;
    }
    try {
      if (step.kind === 'liquid') {
        const html = toValueSync(step.tpl.render(ctx, emitter));
        if (html) emitter.write(html);
      } else {
        let value = ctx.getSync(step.path);
        for (const f of step.filters) value = toValueSync(f.handler.apply({ context: ctx, ...f.self }, [value, ...f.args]));
        emitter.write(toValue(value));
      }
    } catch (e) {
      throw e instanceof Error && 'token' in e ? e : new RenderError(e as Error, step.tpl);
    }
    if (ctx.breakCalled || ctx.continueCalled) break;
  }
}
