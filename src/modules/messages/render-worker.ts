/**
 * The render pool's worker thread: renders one message for a slice of contacts (see
 * render-pool.ts). Runs on a piscina thread, never on the main event loop.
 *
 * Shared with the main thread (a SharedArrayBuffer, no message needed):
 * - `progress[slot]`: how many contacts of this slice have started rendering. The main thread's
 *   watchdog reads it: a number that stops moving means a render that blocks the thread (liquidjs
 *   checks its time limit only between nodes) and the thread is terminated;
 * - `progress[0]`: the job's time-outs, all slices together. Once it reaches `giveUpAfter`, the
 *   message has proven it keeps exceeding its budget: the contacts left fail without rendering.
 */
import {
  createRenderer,
  TemplateError,
  type RenderContext,
  type RenderedMessage,
  type Renderer,
  type TemplateErrorReason,
  type TemplateIssue,
  type TemplatePart,
} from './template.ts';

export interface RenderTask {
  timeZone: string;
  parts: TemplatePart[];
  contexts: RenderContext[];
  budgetMs: number;
  maxOutputBytes: number;
  progress: Int32Array;
  slot: number;
  /** Time-outs of the job after which the contacts left are not rendered; 0: render them all. */
  giveUpAfter: number;
}

/** A rendering or its failure, in a form that crosses threads (a TemplateError does not). */
export type WireOutcome =
  | { ok: true; rendered: RenderedMessage }
  | { ok: false; reason: TemplateErrorReason | 'gave_up'; message: string; issues: TemplateIssue[] };

const renderers = new Map<string, Renderer>();

function rendererFor(task: RenderTask): Renderer {
  const key = `${task.timeZone}|${task.budgetMs}|${task.maxOutputBytes}`;
  let renderer = renderers.get(key);
  if (!renderer) {
    renderer = createRenderer({ timeZone: task.timeZone, maxRenderMs: task.budgetMs, maxOutputBytes: task.maxOutputBytes });
    renderers.set(key, renderer);
  }
  return renderer;
}

export function renderSlice(task: RenderTask): WireOutcome[] {
  const renderer = rendererFor(task);
  const { progress, slot } = task;
  return task.contexts.map((context, i): WireOutcome => {
    if (task.giveUpAfter > 0 && Atomics.load(progress, 0) >= task.giveUpAfter) {
      return {
        ok: false,
        reason: 'gave_up',
        message: `not rendered: the message exceeded its ${task.budgetMs} ms render budget for ${task.giveUpAfter} contacts`,
        issues: [],
      };
    }
    Atomics.store(progress, slot, i + 1);
    try {
      return { ok: true, rendered: renderer.render(task.parts, context) };
    } catch (err) {
      if (!(err instanceof TemplateError)) throw err;
      if (err.reason === 'time_limit' && task.giveUpAfter > 0) Atomics.add(progress, 0, 1);
      return { ok: false, reason: err.reason, message: err.message, issues: err.issues };
    }
  });
}

export default renderSlice;
