/**
 * The publish check, on every path through the tree (docs/ARCHITECTURE.md, "Branches and waits"): references exist and types fit, a
 * message that uses a coupon field has an assignCoupon step filling it earlier on each path that
 * reaches it (error, naming the path without one) and right before it (warning otherwise). Pure:
 * the console runs it in the browser before the server does at publish.
 */
import { fieldReference } from '../messages/snippets.ts';
import {
  UNARY_OPS,
  eventProperty,
  isCouponCondition,
  isEventCondition,
  leavesOf,
  splitFieldName,
  type Condition,
  type ConditionOp,
  type ConditionValue,
} from './conditions.ts';
import { allSteps, branchesOf, walk, type CommittedMessage, type ConversationDocument, type Step } from './document.ts';
import { showsWithoutFallback } from './message-text.ts';

export interface PublishIssue {
  stepId: string | null;
  field: string;
  message: string;
  /** The step's place in the document (`steps.2.branches.0.steps.1`); null for the conversation's own settings. */
  path?: string | null | undefined;
  /** The path through the tree a problem is on, as the marketer reads it (`"Cart value" → otherwise`). */
  route?: string | undefined;
}

type FieldType = 'text' | 'date' | 'number' | 'boolean';
export interface PublishCatalog {
  /** `defaultCode`: the pool hands out its default code when no code is left (so a code field is never empty). */
  pools: Map<string, { merchantId: string; name: string; defaultCode?: boolean }>;
  /** Field id → its group, name and type. */
  fields: Map<string, { group: string; name: string; type: FieldType }>;
  messages: Set<string>;
  /** Problems in a committed message's templates (empty when valid). */
  templateProblems(message: CommittedMessage): string[];
  /** The fields (ids) a committed message's templates read. */
  fieldsUsed(message: CommittedMessage): Set<string>;
  /** Fields that assignCoupon steps of the account's other conversations fill: coupon fields too. */
  couponFieldsElsewhere: Set<string>;
}

export const fits = (type: FieldType, value: unknown): boolean =>
  value === null ||
  (type === 'text' && typeof value === 'string') ||
  (type === 'number' && typeof value === 'number' && Number.isFinite(value)) ||
  (type === 'boolean' && typeof value === 'boolean') ||
  (type === 'date' && typeof value === 'string' && !Number.isNaN(Date.parse(value)));

/** A branch choice on a path. */
type Choice = { name: string; branch: string };
/** A path as the marketer reads it. */
export const routeText = (route: Choice[]): string =>
  route.length === 0 ? 'the main path' : `the path ${route.map((c) => `"${c.name}" → ${c.branch}`).join(', then ')}`;

/** ` on the path "Cart" → otherwise` (nothing on the main path, the only one without branches). */
const where = (route: Choice[]) => (route.length === 0 ? '' : ` on ${routeText(route)}`);
/** The issue with the path it is on, when that path goes through branches. */
const onRoute = (issue: PublishIssue, route: Choice[]): PublishIssue =>
  route.length === 0 ? issue : { ...issue, route: routeText(route) };

/** What holds where a step sits, over all the paths that reach it. */
interface Flow {
  /** Coupon fields (and `step:<id>` for assignCoupon steps) not filled (passed) on some path: a path where not. */
  missing: Map<string, Choice[]>;
  /** The assignCoupon steps that may have run, per field they fill. */
  fillers: Map<string, Step[]>;
  /** The step right before, on each path (null: none, or the split or wait itself). */
  previous: { step: Step | null; route: Choice[] }[];
}

const isAssign = (s: Step): s is Extract<Step, { type: 'action' }> & { action: { type: 'assignCoupon' } } =>
  s.type === 'action' && s.action.type === 'assignCoupon';
const filledBy = (s: Step): string[] =>
  isAssign(s) ? [s.action.saveCodeTo, ...(s.action.saveExpirationTo ? [s.action.saveExpirationTo] : [])] : [];

/** Errors (publishing is refused) and warnings (published anyway) for a draft. */
export function checkForPublish(doc: ConversationDocument, catalog: PublishCatalog): { errors: PublishIssue[]; warnings: PublishIssue[] } {
  const errors: PublishIssue[] = [];
  const warnings: PublishIssue[] = [];
  if (doc.steps.length === 0) errors.push({ stepId: null, path: null, field: 'steps', message: 'a conversation needs at least one step' });
  if (doc.exitEvents.includes(doc.trigger.event)) {
    errors.push({ stepId: null, path: null, field: 'exitEvents', message: `"${doc.trigger.event}" cannot both start and end a run` });
  }
  const fieldLabel = (fieldId: string) => {
    const f = catalog.fields.get(fieldId);
    return f ? `${f.group}.${f.name}` : fieldId;
  };
  const byName = new Map([...catalog.fields].map(([fid, f]) => [`${f.group}.${f.name}`, { id: fid, ...f }]));
  const steps = allSteps(doc.steps);
  const stepsById = new Map(steps.map((s) => [s.id, s]));
  const filledHere = new Set(steps.flatMap(filledBy));
  const isCouponField = (f: string) => filledHere.has(f) || catalog.couponFieldsElsewhere.has(f);

  // A condition's references and types; `flow` for coupon conditions (null: the trigger's filter).
  const checkCondition = (c: Condition, at: (field: string, message: string) => PublishIssue, field: string, flow: Flow | null) => {
    for (const leaf of leavesOf(c)) {
      if (isCouponCondition(leaf)) {
        const source = stepsById.get(leaf.coupon);
        if (flow === null) errors.push(at(field, 'the trigger filter reads the trigger event only (properties.<name>)'));
        else if (!source) errors.push(at(field, `the condition names the step "${leaf.coupon}", which does not exist`));
        else if (!isAssign(source))
          errors.push(at(field, `the condition reads the coupon of "${source.name}", which is not an "assign coupon" step`));
        else if (flow.missing.has(`step:${source.id}`)) {
          const route = flow.missing.get(`step:${source.id}`)!;
          warnings.push(
            onRoute(at(field, `"${source.name}" does not come before this step${where(route)}: there its coupon counts as "none"`), route),
          );
        }
      } else if (isEventCondition(leaf)) {
        if (eventProperty(leaf.event) === null) errors.push(at(field, `"${leaf.event}" is not an event property: write properties.<name>`));
        else {
          const problem = valueProblem(leaf.op, leaf.value, null);
          if (problem) errors.push(at(field, `${leaf.event}: ${problem}`));
        }
      } else {
        if (flow === null) {
          errors.push(at(field, 'the trigger filter reads the trigger event only (properties.<name>)'));
          continue;
        }
        const parts = splitFieldName(leaf.field);
        const f = parts && byName.get(`${parts.group}.${parts.name}`);
        if (!f) errors.push(at(field, `the field ${leaf.field} does not exist`));
        else {
          const problem = valueProblem(leaf.op, leaf.value, f.type);
          if (problem) errors.push(at(field, `${leaf.field}: ${problem}`));
        }
      }
    }
  };
  if (doc.trigger.where)
    checkCondition(doc.trigger.where, (field, message) => ({ stepId: null, path: null, field, message }), 'trigger.where', null);

  const checkStep = (step: Step, path: string, flow: Flow) => {
    const at = (field: string, message: string): PublishIssue => ({ stepId: step.id, path, field, message });
    switch (step.type) {
      case 'delay':
        return;
      case 'split':
        step.branches.forEach((b, i) => checkCondition(b.condition, at, `branches.${i}.condition`, flow));
        return;
      case 'waitForEvent':
        if (step.event === doc.trigger.event) warnings.push(at('event', `the run waits for "${step.event}", the event that started it`));
        if (doc.exitEvents.includes(step.event)) warnings.push(at('event', `"${step.event}" is an exit event: it ends the run instead`));
        return;
      case 'action': {
        const a = step.action;
        if (a.type === 'assignCoupon') {
          const pool = catalog.pools.get(a.poolId);
          if (!pool) errors.push(at('action.poolId', 'the pool does not exist'));
          else if (pool.merchantId !== a.merchantId)
            errors.push(at('action.merchantId', `the pool "${pool.name}" belongs to another merchant`));
          const code = catalog.fields.get(a.saveCodeTo);
          if (!code) errors.push(at('action.saveCodeTo', 'the field does not exist'));
          else if (code.type !== 'text')
            errors.push(at('action.saveCodeTo', `the code goes into a text field; ${fieldLabel(a.saveCodeTo)} is a ${code.type} field`));
          if (a.saveExpirationTo) {
            const exp = catalog.fields.get(a.saveExpirationTo);
            if (!exp) errors.push(at('action.saveExpirationTo', 'the field does not exist'));
            else if (exp.type !== 'date')
              errors.push(
                at(
                  'action.saveExpirationTo',
                  `the expiration date goes into a date field; ${fieldLabel(a.saveExpirationTo)} is a ${exp.type} field`,
                ),
              );
          }
        } else {
          const f = catalog.fields.get(a.field);
          if (!f) errors.push(at('action.field', 'the field does not exist'));
          else if (!fits(f.type, a.value))
            errors.push(at('action.value', `${JSON.stringify(a.value)} is not a ${f.type} value for ${fieldLabel(a.field)}`));
        }
        return;
      }
      case 'message': {
        if (!catalog.messages.has(step.messageId)) errors.push(at('messageId', 'the message does not exist'));
        if (!step.committed) {
          errors.push(at('messageId', 'the message is not committed to this step: commit it first'));
          return;
        }
        for (const problem of catalog.templateProblems(step.committed))
          errors.push(at('message', `the committed message is not valid: ${problem}`));
        for (const f of catalog.fieldsUsed(step.committed)) {
          if (!isCouponField(f)) continue;
          const without = flow.missing.get(f);
          if (without) {
            const route = routeText(without);
            errors.push({
              ...at(
                'message',
                `the message uses the coupon field ${fieldLabel(f)}, but no earlier "assign coupon" step fills it on ${route}`,
              ),
              route,
            });
            continue;
          }
          const notRightBefore = flow.previous.find((p) => !p.step || !filledBy(p.step).includes(f));
          if (notRightBefore) {
            const text = `the message uses the coupon field ${fieldLabel(f)}; put the "assign coupon" step that fills it right before this message${where(notRightBefore.route)}`;
            warnings.push(onRoute(at('message', text), notRightBefore.route));
          }
          const emptying = (flow.fillers.get(f) ?? []).find((s) => mayLeaveEmpty(s, f, catalog));
          const field = catalog.fields.get(f);
          if (emptying && field && showsWithoutFallback(step.committed, fieldReference(field.group, field.name))) {
            warnings.push(
              at(
                'message',
                `the coupon field ${fieldLabel(f)} may be empty: "${emptying.name}" continues when no code is left; add a fallback ({{ ${fieldReference(field.group, field.name)} | default: "…" }}) or end the run when no code is left`,
              ),
            );
          }
        }
        return;
      }
      default: {
        const exhaustive: never = step;
        return exhaustive;
      }
    }
  };

  /** Checks the steps of one list and answers the flow after them. */
  const visit = (list: Step[], prefix: string, flow: Flow): Flow => {
    list.forEach((step, i) => {
      const path = `${prefix}steps.${i}`;
      checkStep(step, path, flow);
      const route = flow.previous[0]?.route ?? [];
      if (step.type === 'split' || step.type === 'waitForEvent') {
        const outs = branchesOf(step).map((b) => {
          const extend = (r: Choice[]) => [...r, { name: step.name, branch: b.label }];
          const entering: Flow = {
            missing: new Map([...flow.missing].map(([k, r]) => [k, extend(r)])),
            fillers: new Map(flow.fillers),
            previous: [{ step: null, route: extend(route) }],
          };
          return visit(b.steps, `${path}.${b.key}.`, entering);
        });
        flow = join(outs);
        return;
      }
      for (const f of filledBy(step)) {
        flow.missing.delete(f);
        flow.fillers.set(f, [...(flow.fillers.get(f) ?? []), step]);
      }
      if (isAssign(step)) flow.missing.delete(`step:${step.id}`);
      flow.previous = flow.previous.map((p) => ({ step, route: p.route })).slice(0, 1);
    });
    return flow;
  };
  const initial: Flow = {
    missing: new Map([
      ...[...filledHere, ...catalog.couponFieldsElsewhere].map((f): [string, Choice[]] => [f, []]),
      ...steps.filter(isAssign).map((s): [string, Choice[]] => [`step:${s.id}`, []]),
    ]),
    fillers: new Map(),
    previous: [{ step: null, route: [] }],
  };
  visit(doc.steps, '', initial);
  return { errors, warnings };
}

/** The flow where branches join again: missing on any branch is missing after them. */
function join(flows: Flow[]): Flow {
  const missing = new Map<string, Choice[]>();
  const fillers = new Map<string, Step[]>();
  const previous: Flow['previous'] = [];
  for (const f of flows) {
    for (const [k, r] of f.missing) if (!missing.has(k)) missing.set(k, r);
    for (const [k, s] of f.fillers) fillers.set(k, [...new Set([...(fillers.get(k) ?? []), ...s])]);
    previous.push(...f.previous);
  }
  return { missing, fillers, previous };
}

/** Why a value does not fit an op over a field of `type` (null: an event property, any JSON value), or null. */
export function valueProblem(op: ConditionOp, value: ConditionValue | undefined, type: FieldType | null): string | null {
  if (UNARY_OPS.includes(op)) return value === undefined || value === null ? null : `${op} takes no value`;
  if (value === undefined || value === null) return `${op} needs a value`;
  const what = type === null ? 'the property' : `a ${type} field`;
  switch (op) {
    case 'eq':
    case 'neq':
      return type === null || fits(type, value) ? null : `${JSON.stringify(value)} is not a ${type} value`;
    case 'contains':
      if (type !== null && type !== 'text') return `contains reads text; this is ${what}`;
      return typeof value === 'string' ? null : 'contains needs a text value';
    default: {
      if (type === 'text' || type === 'boolean') return `${op} compares numbers and dates; this is ${what}`;
      const isNumber = typeof value === 'number';
      const isDate = typeof value === 'string' && /^\d{4}-\d{2}-\d{2}/.test(value) && !Number.isNaN(Date.parse(value));
      if (type === 'number') return isNumber ? null : `${JSON.stringify(value)} is not a number`;
      if (type === 'date') return isDate ? null : `${JSON.stringify(value)} is not a date`;
      return isNumber || isDate ? null : `${op} compares numbers and dates; ${JSON.stringify(value)} is neither`;
    }
  }
}

/** Does this step continue with field `f` empty when its pool has no code left (and no default code)? */
function mayLeaveEmpty(step: Step, f: string, catalog: PublishCatalog): boolean {
  if (!isAssign(step) || step.action.saveCodeTo !== f) return false;
  return step.action.whenNoCode === 'continue' && catalog.pools.get(step.action.poolId)?.defaultCode !== true;
}

/** Fills in the path of each issue from its step id (issues found elsewhere, e.g. archived pools). */
export function withPaths(doc: { steps: Step[] }, issues: PublishIssue[]): PublishIssue[] {
  const paths = new Map<string, string>();
  walk(doc.steps, (s, path) => paths.set(s.id, path));
  return issues.map((i) => (i.path !== undefined ? i : { ...i, path: i.stepId === null ? null : (paths.get(i.stepId) ?? null) }));
}
