/**
 * The conductor benchmark's baseline (issue 16): what the engine writes for a conversation of
 * "assign a code, then the message showing it", done set-wise in 1,000-row transactions by bare
 * SQL from `connections` connections, with no application around it. Per transaction: claim up to
 * 1,000 due runs (the engine's claim), then ONE statement that claims as many codes, inserts the
 * assignments and the pool's counters, saves the code and its expiration into the contacts'
 * fields, inserts the two step runs of each run and its rendered mail into the outbox, and
 * completes the runs. The mail is "rendered" by SQL (each Liquid tag of the subject replaced by the
 * contact's email, of the body by the code), so the rows are about as wide as the engine's.
 *
 * It runs on the schema a benchmark prepared through the API (pool, fields, message, published
 * conversation, events sent with no worker running), so the tables, indexes and rows it starts
 * from are the engine's own.
 */
import pg from 'pg';

interface Plan {
  accountId: string;
  conversationId: string;
  assignStep: string;
  messageStep: string;
  poolKey: number;
  codeField: string;
  expirationField: string;
  message: { from_name: string; from_email: string; subject: string; html: string };
}

interface AssignStep {
  id: string;
  action: { poolId: string; saveCodeTo: string; saveExpirationTo: string };
}
interface MessageStep {
  id: string;
  messageId: string;
}

async function readPlan(db: pg.Pool, conversationId: string): Promise<Plan> {
  const v = (
    await db.query<{ account_id: string; document: { steps: [AssignStep, MessageStep] } }>(
      'select account_id, document from conversation_versions where conversation_id = $1 order by version desc limit 1',
      [conversationId],
    )
  ).rows[0]!;
  const [assign, message] = v.document.steps;
  const pool = (await db.query<{ key: string }>('select key from pools where id = $1', [assign.action.poolId])).rows[0]!;
  const m = (await db.query('select from_name, from_email, subject, html from messages where id = $1', [message.messageId])).rows[0];
  return {
    accountId: v.account_id,
    conversationId,
    assignStep: assign.id,
    messageStep: message.id,
    poolKey: Number(pool.key),
    codeField: assign.action.saveCodeTo,
    expirationField: assign.action.saveExpirationTo,
    message: m,
  };
}

const CLAIM_RUNS = `
  with picked as materialized (
    select ctid from enrollments
    where status = 'active' and next_due_at <= $1
    order by next_due_at
    limit $2
    for update skip locked
  )
  select e.id, e.contact_id from enrollments e where e.ctid = any(array(select ctid from picked))`;

const WRITE_ALL = `
  with runs as (
    select r.*, row_number() over () as n from jsonb_to_recordset($1::jsonb) as r(id text, contact_id text)
  ),
  picked as materialized (
    select ctid from codes
    where pool_key = $2 and assigned_at is null and expires_at >= $3
    order by expires_at, id
    limit (select count(*) from runs)
    for update skip locked
  ),
  claimed as (
    update codes set assigned_at = $3 where ctid = any(array(select ctid from picked)) returning id, code, expires_at
  ),
  paired as (
    select r.id as run_id, r.contact_id, c.id as code_id, c.code, nullif(c.expires_at, 'infinity') as expires_at
    from runs r join (select claimed.*, row_number() over (order by expires_at, id) as n from claimed) c on c.n = r.n
  ),
  inserted as (
    insert into assignments (account_id, id, pool_key, contact_id, idempotency_key, source, code_id, code, expires_at, created_at)
    select $4, 'base-' || run_id, $2, contact_id, 'run:' || run_id || ':' || $5, 'unique', code_id, code, expires_at, $3 from paired
  ),
  counted as (
    insert into pool_code_counts (account_id, pool_key, expires_at, slot, codes, unassigned)
    select $4, $2, expires_at, 0, 0, -count(*) from claimed group by expires_at order by expires_at
    on conflict (pool_key, expires_at, slot) do update set unassigned = pool_code_counts.unassigned + excluded.unassigned
  ),
  daily as (
    insert into pool_daily_assignments (account_id, pool_key, day, slot, assigned)
    select $4, $2, $3::date, 0, count(*) from paired having count(*) > 0
    on conflict (pool_key, day, slot) do update set assigned = pool_daily_assignments.assigned + excluded.assigned
  ),
  patched as (
    update contacts c set fields = c.fields || jsonb_build_object($6::text, p.code, $7::text, to_char(p.expires_at at time zone 'UTC', 'YYYY-MM-DD')),
      updated_at = $3
    from paired p where c.account_id = $4 and c.id = p.contact_id
    returning c.id, c.email
  ),
  mailed as (
    insert into outbox (account_id, id, merchant_id, kind, to_email, from_name, from_email, subject, html, text,
                        message_id, status, transport, attempts, next_attempt_at, last_error, created_at, sent_at, headers)
    select $4, 'base-' || p.run_id, null, 'message', c.email, $9, $10, regexp_replace($11, '[{][{][^}]*[}][}]', c.email, 'g'),
           regexp_replace($12, '[{][{][^}]*[}][}]', p.code, 'g'), null,
           '<base-' || p.run_id || '@bench.invalid>', 'sent', 'outbox', 0, null, null, $3, $3, null
    from paired p join patched c on c.id = p.contact_id
  ),
  stepped as (
    insert into step_runs (account_id, enrollment_id, step_id, conversation_id, outcome, at, code, expires_at, mail_id, detail)
    select $4, run_id, $5, $8, 'assigned', $3, code, expires_at, null, 'unique' from paired
    union all
    select $4, run_id, $13, $8, 'sent', $3, null, null, 'base-' || run_id, null from paired
  )
  update enrollments e
  set status = 'completed', step_index = 2, step_path = null, next_due_at = $3, attempts = 0, last_error = null,
      updated_at = $3, ended_at = $3
  from runs r where e.account_id = $4 and e.id = r.id`;

/** Runs the baseline until no run is due; answers how long it took and how many runs it completed. */
export async function conductorBaseline(p: {
  url: string;
  schema: string;
  conversationId: string;
  connections: number;
  batch?: number;
  /** Called when done, before the connections close (their backends' CPU is still countable). */
  done?: () => void;
}): Promise<{ ms: number; runs: number }> {
  const db = new pg.Pool({ connectionString: p.url, max: p.connections, options: `-c search_path=${p.schema}` });
  try {
    const plan = await readPlan(db, p.conversationId);
    let runs = 0;
    const t0 = performance.now();
    const loop = async () => {
      const client = await db.connect();
      try {
        for (;;) {
          await client.query('begin');
          const now = new Date();
          const claimed = (await client.query<{ id: string; contact_id: string }>(CLAIM_RUNS, [now, p.batch ?? 1000])).rows;
          if (claimed.length === 0) {
            await client.query('commit');
            return;
          }
          const m = plan.message;
          await client.query(WRITE_ALL, [
            JSON.stringify(claimed),
            plan.poolKey,
            now,
            plan.accountId,
            plan.assignStep,
            plan.codeField,
            plan.expirationField,
            plan.conversationId,
            m.from_name,
            m.from_email,
            m.subject,
            m.html,
            plan.messageStep,
          ]);
          await client.query('commit');
          runs += claimed.length;
        }
      } catch (err) {
        await client.query('rollback').catch(() => {});
        throw err;
      } finally {
        client.release();
      }
    };
    await Promise.all(Array.from({ length: p.connections }, loop));
    const ms = performance.now() - t0;
    p.done?.();
    return { ms, runs };
  } finally {
    await db.end();
  }
}
