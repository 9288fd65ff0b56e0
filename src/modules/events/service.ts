import type { Kysely } from 'kysely';
import type { Clock } from '../../platform/clock.ts';
import type { Principal } from '../accounts/principal.ts';
import { newId, newIds } from '../../platform/ids.ts';
import type { AppDatabase, DB } from '../../schema.ts';
import { ensureContact, ensureContacts } from '../contacts/repo.ts';
import * as repo from './repo.ts';
import type { EventRedemptions } from '../redemptions/model.ts';

export type { EventOutcome, EventRecord } from './repo.ts';

export interface EventInput {
  type: string;
  email: string;
  properties?: Record<string, unknown> | undefined;
  occurredAt?: Date | undefined;
  idempotencyKey?: string | undefined;
}

export interface EventAnswer extends repo.EventOutcome {
  contactId: string;
  /** True when the idempotency key was seen before: nothing was done this time. */
  duplicate: boolean;
}

/**
 * Hands a recorded event to the conversation engine, inside the transaction that recorded it: an
 * enrollment is written with its event or not at all. Answers the conversations entered and left.
 */
export type OnEvent = (tx: Kysely<DB>, event: repo.EventRecord, merchantIds?: string[] | null) => Promise<repo.EventOutcome>;
/**
 * The same for many events of one account, in order (the batch intake). Each event comes as what
 * the conductor reads of it (its contact, type and properties): the conductor sends the batch on
 * in its statements, so nothing else of the event rides along.
 */
export type OnEvents = (
  tx: Kysely<DB>,
  accountId: string,
  events: Pick<repo.EventRecord, 'contactId' | 'type' | 'properties'>[],
  merchantIds?: string[] | null,
) => Promise<repo.EventOutcome[]>;

/**
 * The redemptions an event's `properties.couponCode(s)` name, recorded in the transaction of the
 * events (one call for a whole batch); null for an event that names no code.
 */
export type OnCoupons = (
  tx: Kysely<DB>,
  accountId: string,
  merchantIds: readonly string[] | null,
  events: { id: string; idempotencyKey: string | null; email: string; properties: Record<string, unknown>; occurredAt: Date }[],
) => Promise<(EventRedemptions | null)[]>;

const nothing: OnEvent = async () => ({ enrolled: [], exited: [] });

class KeyTaken extends Error {}

/** Did the event do anything worth recording as its outcome? */
const said = (o: repo.EventOutcome) => o.enrolled.length > 0 || o.exited.length > 0 || o.redemptions !== undefined;

const withRedemptions = (outcome: repo.EventOutcome, redemptions: EventRedemptions | null): repo.EventOutcome =>
  redemptions ? { ...outcome, redemptions } : outcome;

/** POST /v1/events: the contact found or created, the event recorded once per key, handed on. */
export function eventsService(deps: {
  database: AppDatabase;
  clock: Clock;
  onEvent?: OnEvent;
  onEvents?: OnEvents;
  onCoupons?: OnCoupons;
}) {
  const { db } = deps.database;
  const onEvent = deps.onEvent ?? nothing;

  /**
   * Events of one account recorded at `now`, written and handed to the conductor in `tx`, in as few
   * statements as their keys allow: those with an idempotency key are written first (a key another
   * request took meanwhile is skipped, `raced`, before the conductor sees the event) and get their
   * outcome afterwards (one update for the batch); those without a key cannot race and are written
   * once, after the conductor, with their outcome. `coupons`: the redemptions the kept events name,
   * before the conductor sees them. Answers the events kept and their outcomes, in order.
   */
  async function writeAndHandOn(
    tx: Kysely<DB>,
    accountId: string,
    now: Date,
    events: repo.EventRecord[],
    merchantIds: string[] | null,
    coupons: (events: repo.EventRecord[]) => Promise<(EventRedemptions | null)[]>,
  ) {
    const keyed = events.filter((e) => e.idempotencyKey !== null);
    const written = await repo.insertEvents(tx, accountId, now, keyed);
    const kept = keyed.length === 0 ? events : events.filter((e) => e.idempotencyKey === null || written.has(e.id));
    const redemptions = await coupons(kept);
    const engine = deps.onEvents
      ? await deps.onEvents(
          tx,
          accountId,
          kept.map((e) => ({ contactId: e.contactId, type: e.type, properties: e.properties })),
          merchantIds,
        )
      : await Promise.all(kept.map((e) => onEvent(tx, e, merchantIds)));
    const outcomes = engine.map((o, i) => withRedemptions(o, redemptions[i] ?? null));
    const unkeyed = kept.flatMap((e, i) => (e.idempotencyKey === null ? [i] : []));
    await repo.insertEvents(
      tx,
      accountId,
      now,
      unkeyed.map((i) => kept[i]!),
      unkeyed.map((i) => outcomes[i]!),
    );
    await repo.saveOutcomes(
      tx,
      accountId,
      kept.flatMap((e, i) => (e.idempotencyKey !== null && said(outcomes[i]!) ? [{ id: e.id, outcome: outcomes[i]! }] : [])),
    );
    return { kept, outcomes, raced: keyed.filter((e) => !written.has(e.id)) };
  }

  async function replay(accountId: string, key: string): Promise<EventAnswer | undefined> {
    const seen = await repo.findByKey(db, accountId, key);
    return seen && { contactId: seen.contactId, ...seen.outcome, duplicate: true };
  }

  async function recordEvent(principal: Principal, input: EventInput): Promise<EventAnswer> {
    const { accountId } = principal;
    const key = input.idempotencyKey ?? null;
    if (key !== null) {
      const seen = await replay(accountId, key);
      if (seen) return seen;
    }
    try {
      return await db.transaction().execute(async (tx) => {
        const contact = await ensureContact(tx, accountId, input.email, newId());
        const now = deps.clock.now();
        const event: repo.EventRecord = {
          accountId,
          id: newId(),
          contactId: contact.id,
          type: input.type,
          properties: input.properties ?? {},
          occurredAt: input.occurredAt ?? now,
          idempotencyKey: key,
          createdAt: now,
        };
        // A racing request with the same key got there first: undo this one whole (the contact too).
        // Without a key nothing can race: the event is written once, after the conductor, with its outcome.
        if (key !== null && !(await repo.insertEvent(tx, event))) throw new KeyTaken();
        const [redemptions] = deps.onCoupons
          ? await deps.onCoupons(tx, accountId, principal.merchantIds, [{ ...event, email: input.email }])
          : [null];
        const outcome = withRedemptions(await onEvent(tx, event, principal.merchantIds), redemptions ?? null); // a merchant-limited caller's events reach its conversations only
        if (key === null) await repo.insertEvent(tx, event, outcome);
        else if (said(outcome)) await repo.saveOutcome(tx, accountId, event.id, outcome);
        return { contactId: contact.id, ...outcome, duplicate: false };
      });
    } catch (err) {
      if (!(err instanceof KeyTaken)) throw err;
      const seen = await replay(accountId, key!);
      if (!seen) throw new Error('idempotency key taken but no event found');
      return seen;
    }
  }

  /**
   * Up to 1,000 events in one transaction, with the answer each would get alone, in order: a key
   * seen before (or earlier in the batch) does nothing and answers the first event's outcome.
   */
  async function recordEvents(principal: Principal, inputs: EventInput[]): Promise<EventAnswer[]> {
    const { accountId } = principal;
    const keys = [...new Set(inputs.flatMap((e) => (e.idempotencyKey ? [e.idempotencyKey] : [])))];
    const seenBefore = await repo.findByKeys(db, accountId, keys);
    const firstOfKey = new Map<string, number>();
    const answers: (EventAnswer | undefined)[] = inputs.map(() => undefined);
    const raced = await db.transaction().execute(async (tx) => {
      const now = deps.clock.now();
      // Ids drawn for the whole batch at once (newId() draws its randomness per id).
      const ids = newIds(inputs.length * 2);
      const contactIds = await ensureContacts(
        tx,
        accountId,
        inputs.map((e, i) => ({ id: ids[2 * i]!, email: e.email })),
      );
      const fresh: repo.EventRecord[] = [];
      const indexOf = new Map<string, number>();
      inputs.forEach((input, index) => {
        const key = input.idempotencyKey ?? null;
        if (key !== null && (seenBefore.has(key) || firstOfKey.has(key))) return;
        if (key !== null) firstOfKey.set(key, index);
        const event: repo.EventRecord = {
          accountId,
          id: ids[2 * index + 1]!,
          contactId: contactIds.get(input.email.toLowerCase())!,
          type: input.type,
          properties: input.properties ?? {},
          occurredAt: input.occurredAt ?? now,
          idempotencyKey: key,
          createdAt: now,
        };
        fresh.push(event);
        indexOf.set(event.id, index);
      });
      const { kept, outcomes, raced } = await writeAndHandOn(tx, accountId, now, fresh, principal.merchantIds, (events) =>
        deps.onCoupons
          ? deps.onCoupons(
              tx,
              accountId,
              principal.merchantIds,
              events.map((e) => ({ ...e, email: inputs[indexOf.get(e.id)!]!.email })),
            )
          : Promise.resolve(events.map(() => null)),
      );
      kept.forEach((e, i) => (answers[indexOf.get(e.id)!] = { contactId: e.contactId, ...outcomes[i]!, duplicate: false }));
      // Keys another request recorded between our look-up and our insert.
      return raced.map((e) => e.idempotencyKey!);
    });
    const late = await repo.findByKeys(db, accountId, raced);
    return inputs.map((input, index) => {
      const answer = answers[index];
      if (answer) return answer;
      const key = input.idempotencyKey!;
      const first = firstOfKey.get(key);
      const stored = seenBefore.get(key) ?? late.get(key);
      if (stored) return { contactId: stored.contactId, ...stored.outcome, duplicate: true };
      const earlier = first !== undefined ? answers[first] : undefined;
      if (!earlier) throw new Error(`idempotency key ${key} taken but no event found`);
      return { ...earlier, duplicate: true };
    });
  }

  /**
   * Events the system itself records (Shopify's order_placed, coupon_expiring), inside the caller's
   * transaction `tx`: the contact found or created by email (or given by id), the event written
   * unless its idempotency key is taken (then nothing), and handed to the conductor there. Answers
   * the ids of the events written.
   */
  async function recordWithin(
    tx: Kysely<DB>,
    accountId: string,
    inputs: (Omit<EventInput, 'email'> & ({ email: string } | { contactId: string }))[],
  ): Promise<string[]> {
    if (inputs.length === 0) return [];
    const now = deps.clock.now();
    const byEmail = inputs.flatMap((e) => ('email' in e ? [{ id: newId(), email: e.email }] : []));
    const contactIds = byEmail.length ? await ensureContacts(tx, accountId, byEmail) : new Map<string, string>();
    const events: repo.EventRecord[] = inputs.map((e) => ({
      accountId,
      id: newId(),
      contactId: 'contactId' in e ? e.contactId : contactIds.get(e.email.toLowerCase())!,
      type: e.type,
      properties: e.properties ?? {},
      occurredAt: e.occurredAt ?? now,
      idempotencyKey: e.idempotencyKey ?? null,
      createdAt: now,
    }));
    const { kept } = await writeAndHandOn(tx, accountId, now, events, null, async (batch) => batch.map(() => null));
    return kept.map((e) => e.id);
  }

  return { recordEvent, recordEvents, recordWithin };
}

export type EventsService = ReturnType<typeof eventsService>;
