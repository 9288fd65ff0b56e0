import type { Generated, JSONColumnType } from 'kysely';
import type { ConversationDocument, FrequencyCap } from '../modules/conductor/model.ts';

/** The conductor: conversations, their versions, enrollments (runs), settings and step runs. */
export interface ConductorTables {
  conversations: {
    account_id: string;
    id: string;
    name: string;
    status: 'draft' | 'live' | 'paused';
    trigger_event: string;
    draft: JSONColumnType<ConversationDocument>;
    live_version: number | null;
    created_at: Date;
    updated_at: Date;
    /** Archived (migration 0018): enrolls nobody; runs in progress finish. */
    archived_at: Generated<Date | null>;
  };
  conversation_versions: {
    account_id: string;
    conversation_id: string;
    version: number;
    document: JSONColumnType<ConversationDocument>;
    trigger_event: string;
    exit_events: string[];
    published_at: Date;
  };
  enrollments: {
    account_id: string;
    id: string;
    conversation_id: string;
    version: number;
    contact_id: string;
    /** held: its conversation is paused; failed: parked after its last attempt (resumable). */
    status: 'active' | 'held' | 'failed' | 'completed' | 'exited';
    step_index: number;
    next_due_at: Date;
    exit_reason: string | null;
    /** Failed attempts at the run's current position (0 once it moves on), and the last error. */
    attempts: Generated<number>;
    last_error: string | null;
    created_at: Date;
    updated_at: Date;
    ended_at: Date | null;
    /** The run's place in its version's tree (`steps.2.branches.0.steps.1`); null: `steps.<step_index>` (runs before 0020). */
    step_path: string | null;
    /** At a waitForEvent step: the event type waited for (the timeout is next_due_at), and when it arrived. */
    waiting_for: string | null;
    wait_until: Date | null;
    received_at: Date | null;
    /** The trigger event's properties (split conditions read them). */
    trigger_properties: unknown;
  };
  conductor_settings: {
    account_id: string;
    /** `{messages, perDays}` or null: no cap. */
    frequency_cap: JSONColumnType<FrequencyCap | null, string | null, string | null>;
    updated_at: Date;
  };
  step_runs: {
    account_id: string;
    enrollment_id: string;
    step_id: string;
    conversation_id: string;
    outcome: string;
    at: Date;
    code: string | null;
    expires_at: Date | null;
    mail_id: string | null;
    detail: string | null;
  };
}
