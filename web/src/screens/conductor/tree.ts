/**
 * The conversation as a tree: step lists (the top level, a split's branches and its otherwise, a
 * wait's received and timed-out paths) addressed by their JSON path in the document
 * (`steps`, `steps.2.branches.0.steps`), the same paths the server's schema and checks use.
 */
import type { Draft, DraftStep } from './check.ts';

/**
 * A path into the draft, as the server names places in the document: `steps.2` is the third step,
 * `steps.2.branches.0.steps` the list of its first branch, `steps.2.branches.0.steps.1` a step there.
 */
export type Path = string;
const parts = (path: Path): string[] => (path === '' ? [] : path.split('.'));
const join = (...p: (string | number)[]) => p.filter((x) => x !== '').join('.');

/** One list of steps inside a step: its path below the step, its name and its number in step labels. */
export interface Lane {
  /** Below the step: `branches.0.steps`, `otherwise.steps`, `received.steps`. */
  at: Path;
  label: string;
  steps: DraftStep[];
  /** For a split's branch: its index in `branches`. */
  branch?: number;
}

type Json = Record<string, unknown> | unknown[];

export function getAt(root: unknown, path: Path): unknown {
  let node = root;
  for (const key of parts(path)) node = (node as Record<string, unknown> | undefined)?.[key];
  return node;
}

/** `root` with the value at `path` replaced (copies along the path; the rest is shared). */
export function setAt<T>(root: T, path: Path, value: unknown): T {
  return setParts(root, parts(path), value);
}
function setParts<T>(root: T, path: string[], value: unknown): T {
  if (path.length === 0) return value as T;
  const [key, ...rest] = path;
  const node = root as unknown as Json;
  const child = setParts((node as Record<string, unknown>)[key!], rest, value);
  if (Array.isArray(node)) return node.map((v, i) => (i === Number(key) ? child : v)) as T;
  return { ...node, [key!]: child } as T;
}

/** The step lists inside a step (none for delay, action and message steps). */
export function lanesOf(step: DraftStep): Lane[] {
  if (step.type === 'split')
    return [
      ...step.branches.map((b, i): Lane => ({ at: `branches.${i}.steps`, label: b.name || `Branch ${i + 1}`, steps: b.steps, branch: i })),
      { at: 'otherwise.steps', label: 'Otherwise', steps: step.otherwise.steps },
    ];
  if (step.type === 'waitForEvent')
    return [
      { at: 'received.steps', label: 'Received', steps: step.received.steps },
      { at: 'timedOut.steps', label: 'Timed out', steps: step.timedOut.steps },
    ];
  return [];
}

export const stepsAt = (draft: Draft, list: Path): DraftStep[] => (getAt(draft, list) as DraftStep[] | undefined) ?? [];

/** Every step of the tree, depth first, with its path (`steps.2.branches.0.steps.1`). */
export function walkDraft(steps: readonly DraftStep[], list: Path = 'steps'): { step: DraftStep; path: Path }[] {
  return steps.flatMap((step, i) => {
    const path = join(list, i);
    return [{ step, path }, ...lanesOf(step).flatMap((lane) => walkDraft(lane.steps, join(path, lane.at)))];
  });
}

/**
 * A step's number in labels: `2` at the top, `2.1.3` for the third step of its first branch (a
 * split's otherwise comes after its branches; a wait's received path is 1, its timed-out path 2).
 */
export function numberOf(draft: { steps: readonly unknown[] }, path: Path): string {
  const keys = parts(path);
  const out: string[] = [];
  let node: unknown = draft;
  keys.forEach((key, i) => {
    if (keys[i - 1] === 'steps') out.push(String(Number(key) + 1));
    if (key === 'branches') out.push(String(Number(keys[i + 1]) + 1));
    if (key === 'otherwise') out.push(String(((node as { branches?: unknown[] }).branches?.length ?? 0) + 1));
    if (key === 'received') out.push('1');
    if (key === 'timedOut') out.push('2');
    node = (node as Record<string, unknown>)[key];
  });
  return out.join('.');
}

/** The list a step's path sits in and its index there: `steps.2.branches.0.steps.1` → `steps.2.branches.0.steps`, 1. */
export function placeOf(path: Path): { list: Path; index: number } {
  const keys = parts(path);
  return { list: keys.slice(0, -1).join('.'), index: Number(keys[keys.length - 1]) };
}

/** The step at `path` (a step's path, ending in its index), or undefined. */
export const stepAt = (draft: Draft, path: Path): DraftStep | undefined => getAt(draft, path) as DraftStep | undefined;

export const replaceStep = (draft: Draft, path: Path, step: DraftStep): Draft => setAt(draft, path, step);

export function removeStep(draft: Draft, path: Path): Draft {
  const { list, index } = placeOf(path);
  return setAt(
    draft,
    list,
    stepsAt(draft, list).filter((_, i) => i !== index),
  );
}

export function addStep(draft: Draft, list: Path, step: DraftStep): Draft {
  return setAt(draft, list, [...stepsAt(draft, list), step]);
}

/** Moves the step at `path` by one place within its list. */
export function moveStep(draft: Draft, path: Path, by: -1 | 1): Draft {
  const { list, index } = placeOf(path);
  const steps = [...stepsAt(draft, list)];
  const [step] = steps.splice(index, 1);
  steps.splice(index + by, 0, step!);
  return setAt(draft, list, steps);
}

/** Moves the step at `path` to the end of the list at `to` (a list not inside the step itself). */
export function moveStepTo(draft: Draft, path: Path, to: Path): Draft {
  const step = stepAt(draft, path);
  if (!step || isInside(to, path)) return draft;
  // Removing first would shift the indexes of `to` when it follows the step in the same list.
  const placed = addStep(draft, to, step);
  const marked = setAt(placed, path, { ...step, __moving: true });
  const { list } = placeOf(path);
  return setAt(
    marked,
    list,
    stepsAt(marked, list).filter((s) => !(s as { __moving?: boolean }).__moving),
  );
}

const isInside = (inner: Path, outer: Path) => inner === outer || inner.startsWith(`${outer}.`);

/** Every step list of the tree (with its label), for "Move to…": the top level first. */
export function listsOf(draft: Draft): { path: Path; label: string }[] {
  const lists: { path: Path; label: string }[] = [{ path: 'steps', label: 'Main path' }];
  for (const { step, path } of walkDraft(draft.steps)) {
    for (const lane of lanesOf(step)) lists.push({ path: join(path, lane.at), label: `Step ${numberOf(draft, path)} · ${lane.label}` });
  }
  return lists;
}

/** How deep a step list is: the top level is 0, a split's branch 1, a branch of a split in it 2. */
export const depthOf = (list: Path): number =>
  parts(list).filter((k) => k === 'branches' || k === 'otherwise' || k === 'received' || k === 'timedOut').length;
export { join as joinPath };

/** The tree with `fn` applied to every step (children first). */
export function mapTree(steps: readonly DraftStep[], fn: (s: DraftStep) => DraftStep): DraftStep[] {
  return steps.map((s) => {
    if (s.type === 'split')
      return fn({
        ...s,
        branches: s.branches.map((b) => ({ ...b, steps: mapTree(b.steps, fn) })),
        otherwise: { steps: mapTree(s.otherwise.steps, fn) },
      });
    if (s.type === 'waitForEvent')
      return fn({ ...s, received: { steps: mapTree(s.received.steps, fn) }, timedOut: { steps: mapTree(s.timedOut.steps, fn) } });
    return fn(s);
  });
}
