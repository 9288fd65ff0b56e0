/**
 * What one engine batch carries from step to step (engine.ts runs the batch, steps.ts and
 * message-step.ts execute the steps for a group of runs at once).
 */
import type { Kysely } from 'kysely';
import type { DB } from '../../schema.ts';
import type { Pool } from '../pools/model.ts';
import type { FieldGroup } from '../segmentation/model.ts';
import type { ContactRecord } from '../contacts/service.ts';
import type { ConversationDocument, FrequencyCap } from './model.ts';
import type * as repo from './repo.ts';

/** One run as the batch carries it from step to step. */
export interface Run {
  row: repo.EnrollmentRow;
  doc: ConversationDocument;
  /** Its place in the tree; null once complete. */
  path: string | null;
  status: 'active' | 'completed' | 'exited';
  exitReason: string | null;
  nextDueAt: Date;
  /** At a waitForEvent step: the event it waits for, and when that came (the event's transaction set it). */
  waitingFor: string | null;
  receivedAt: Date | null;
  /** When the wait times out (its next due time while it waits). */
  waitUntil: Date | null;
}

/** What a step did for one run. */
export interface StepResult {
  outcome: string;
  code?: string | null;
  expiresAt?: Date | null;
  mailId?: string | null;
  detail?: string | null;
  /** The run ends here, with this reason. */
  exit?: string;
  /** Splits and waits: the branch the run goes into (`branches.0`, `otherwise`, `received`, `timedOut`). */
  branch?: string;
}

/** The step is not done yet: the run stays at it until then (a wait for an event, a send window); no step run. */
export interface Hold {
  holdUntil: Date;
}

export type Outcome = StepResult | Hold;
export const isHold = (o: Outcome): o is Hold => 'holdUntil' in o;

/** What one batch (of one account) leaves to write, and what it touched. */
export interface BatchWork {
  tx: Kysely<DB>;
  now: Date;
  accountId: string;
  timeZone: string;
  groups: FieldGroup[];
  contacts: Map<string, ContactRecord>;
  patches: Map<string, Record<string, unknown>>;
  stepRuns: repo.StepRunRow[];
  pools: Map<string, Pool>;
  /** The account's frequency cap (null: none). */
  frequencyCap: FrequencyCap | null;
}
