/**
 * Conversations as versioned documents, their publish check and the API's answers. This file and
 * the files it re-exports are pure (no I/O) so that the console imports the same validation the
 * server runs at publish: document.ts (the tree of steps), conditions.ts (conditions, send windows,
 * caps), check.ts (the publish check on every path), message-text.ts (templates read as text).
 */
import { z } from 'zod';
import { frequencyCap, type SendWindow } from './conditions.ts';
import type { StepJson, Trigger } from './document.ts';

export * from './document.ts';
export * from './conditions.ts';
export * from './check.ts';
export * from './message-text.ts';

// ---------------------------------------------------------------------------------------------
// The API's answers (routes.ts serializes them; the console reads them)

export const publishIssue = z.object({
  stepId: z.string().nullable(),
  field: z.string(),
  message: z.string(),
  path: z.string().nullable().optional().describe("the step's place in the document, e.g. steps.2.branches.0.steps.1"),
  route: z.string().optional().describe('the path through the branches the problem is on'),
});

export const stepCounts = z.object({
  entered: z.number(),
  completed: z.number(),
  codesAssigned: z.number(),
  defaultCodes: z.number(),
  noCode: z.number(),
  messagesSent: z.number(),
  exits: z.number(),
  /** Runs at this step now: waiting for its delay to pass, for the event, or for the send window to open. */
  waiting: z.number(),
  /** Message steps: mail not sent because the account's frequency cap was reached (the run went on). */
  capped: z.number().optional(),
  /** Splits and waits: runs that took each branch, by its key (`branches.0`, `otherwise`, `received`, `timedOut`). */
  branches: z.record(z.string(), z.number()).optional(),
  /**
   * Live redemptions of the codes this step handed out (a shared code: the orders of its contact
   * after the step gave it, unless a later assignment gave it again), and their revenue per
   * currency as exact decimal strings. Optional for older servers.
   */
  redeemed: z.number().optional(),
  revenue: z.array(z.object({ currency: z.string(), amount: z.string() })).optional(),
});
export type StepCounts = z.infer<typeof stepCounts>;

// Steps are answered as stored (a union keyed by `type`); documented loosely to keep the schema small.
export const stepOut = z.record(z.string(), z.unknown());
export const conversationOut = z.object({
  id: z.string(),
  name: z.string(),
  status: z.enum(['draft', 'live', 'paused']),
  version: z.number().describe('the live version (0 before the first publish)'),
  trigger: z.object({ event: z.string(), where: z.unknown().optional() }),
  sendWindow: z.object({ start: z.string(), end: z.string(), days: z.array(z.number()).optional() }).nullable(),
  exitEvents: z.array(z.string()),
  reentry: z.enum(['never', 'afterCompletion']),
  exitOnRedemption: z.boolean(),
  steps: z.array(stepOut),
  stepCounts: z.record(z.string(), stepCounts),
  createdAt: z.string(),
  updatedAt: z.string(),
});

export type ConversationJson = Omit<z.infer<typeof conversationOut>, 'steps' | 'trigger' | 'sendWindow'> & {
  steps: StepJson[];
  trigger: Trigger;
  sendWindow: SendWindow | null;
};

export const enrollmentOut = z.object({
  id: z.string(),
  conversationId: z.string(),
  contactId: z.string(),
  version: z.number(),
  status: z
    .enum(['active', 'held', 'failed', 'completed', 'exited'])
    .describe('held: the conversation is paused; failed: parked after its last attempt, see lastError (resume it with …/resume)'),
  exitReason: z.string().nullable(),
  stepIndex: z.number().describe('the top-level step the run is at (the number of steps once complete)'),
  position: z.string().nullable().describe('the step path the run is at, e.g. steps.2.branches.0.steps.1 (null once done)'),
  waitingFor: z.string().nullable().describe('the event a waitForEvent step waits for'),
  nextDueAt: z.string().nullable(),
  attempts: z.number().describe('failed attempts at the current step (0 once the run moves on)'),
  lastError: z.string().nullable(),
  createdAt: z.string(),
  endedAt: z.string().nullable(),
  steps: z.array(
    z.object({
      stepId: z.string(),
      path: z.string().nullable().describe("the step path in the run's version"),
      outcome: z.string().describe('splits: branch; waits: received or timed_out; messages: sent, capped, skipped, …'),
      branch: z.string().optional().describe('splits and waits: the branch taken (its name)'),
      at: z.string(),
      code: z.string().optional(),
      expiresAt: z.string().nullable().optional(),
      messageId: z.string().optional(),
      detail: z.string().optional(),
    }),
  ),
});
export type EnrollmentJson = z.infer<typeof enrollmentOut>;

/** The account's conductor settings. */
export const conductorSettings = z.object({ frequencyCap: frequencyCap.nullable() });
export type ConductorSettings = z.infer<typeof conductorSettings>;
