/**
 * Events in the conductor, inside the transaction that records them: exits, waits woken, runs
 * started (trigger filters decide, over the event's properties).
 */
import type { Kysely } from 'kysely';
import { newIds } from '../../platform/ids.ts';
import type { DB } from '../../schema.ts';
import { dueAt, evaluate, start, type ConversationDocument } from './model.ts';
import * as repo from './repo.ts';

export interface EventOutcome {
  enrolled: string[];
  exited: string[];
}

export interface IntakeEvent {
  contactId: string;
  type: string;
  properties?: Record<string, unknown> | undefined;
}

/** Does the trigger's filter (event conditions only) let this event start a run? */
export function passesTrigger(doc: ConversationDocument, properties: Record<string, unknown>): boolean {
  const where = doc.trigger.where;
  if (!where) return true;
  return evaluate(where, {
    field: () => undefined,
    property: (name) => properties[name],
    coupon: () => ({ source: 'none', redeemed: false }),
  });
}

/**
 * Many events of one account, with the same outcome as one call per event in order: events are
 * taken in rounds in which each contact appears once, and each round ends runs first (exit
 * events), then wakes the runs waiting for its events (waitForEvent), then starts runs, one
 * statement each. `hidden`: conversations these events must not reach (a merchant-limited caller).
 */
export async function intakeEvents(tx: Kysely<DB>, accountId: string, events: IntakeEvent[], hidden: string[], now: Date) {
  const outcomes: EventOutcome[] = events.map(() => ({ enrolled: [], exited: [] }));
  const triggered = new Map<string, Awaited<ReturnType<typeof repo.conversationsTriggeredBy>>>();
  for (const type of new Set(events.map((e) => e.type))) {
    triggered.set(
      type,
      (await repo.conversationsTriggeredBy(tx, accountId, type)).filter((c) => !hidden.includes(c.id)),
    );
  }
  let pending = events.map((e, index) => ({ ...e, index }));
  while (pending.length > 0) {
    const seen = new Set<string>();
    const round = pending.filter((e) => !seen.has(e.contactId) && seen.add(e.contactId));
    pending = pending.filter((e) => !round.includes(e));
    const byContact = new Map(round.map((e) => [e.contactId, e.index]));
    for (const left of await repo.exitRunsMany(tx, accountId, round, now, hidden)) {
      const out = outcomes[byContact.get(left.contactId)!]!;
      if (!out.exited.includes(left.conversationId)) out.exited.push(left.conversationId);
    }
    await repo.wakeWaitingRuns(tx, accountId, round, now, hidden);
    // The runs' ids drawn for the round at once (newId() draws its randomness per id).
    const ids = newIds(round.reduce((n, e) => n + (triggered.get(e.type)?.length ?? 0), 0));
    let drawn = 0;
    const runs: repo.NewRun[] = round.flatMap((e) =>
      (triggered.get(e.type) ?? []).flatMap((c) => {
        const doc = c.document;
        const properties = e.properties ?? {};
        if (!passesTrigger(doc, properties)) return [];
        const path = start(doc);
        return [
          {
            id: ids[drawn++]!,
            conversationId: c.id,
            version: c.live_version!,
            contactId: e.contactId,
            stepPath: path,
            properties,
            nextDueAt: dueAt(doc, path, now).toISOString(),
            reentry: doc.reentry,
          },
        ];
      }),
    );
    for (const started of await repo.enrollMany(tx, accountId, runs, now))
      outcomes[byContact.get(started.contactId)!]!.enrolled.push(started.conversationId);
  }
  return outcomes;
}
