import type { Db } from '../db/database.js';
import { migrate } from '../db/database.js';
import { JOB_MIGRATIONS, type EventType, type JobEvent, type JobRow, type JobStatus } from './schema.js';

const PATCHABLE = [
  'progress', 'stage', 'attempts', 'next_attempt_at', 'error_code', 'error_message', 'model', 'device',
  'result_path', 'result_kind', 'result_type', 'result_metadata', 'webhook_status', 'webhook_attempts',
  'webhook_next_at', 'cancel_requested', 'started_at', 'finished_at', 'files_purged_at',
] as const;

export type JobPatch = Partial<Pick<JobRow, (typeof PATCHABLE)[number]>>;

export type NewJob = Pick<
  JobRow,
  'id' | 'owner' | 'operation' | 'options' | 'input_meta' | 'max_attempts' | 'webhook_url' | 'idempotency_key' | 'request_hash'
>;

export interface EventDraft {
  type: EventType;
  data: Record<string, unknown>;
}

export interface ListQuery {
  owner: string;
  status?: JobStatus;
  limit: number;
  /** Opaque position from a previous page. */
  cursor?: string;
}

interface EventRow {
  job_id: string;
  seq: number;
  type: EventType;
  data: string;
  at: number;
}

export interface DeliveryRecord {
  jobId: string;
  event: string;
  url: string;
  attempt: number;
  outcome: 'delivered' | 'failed' | 'refused';
  responseStatus?: number;
  error?: string;
  durationMs: number;
}

function encodeCursor(row: JobRow): string {
  return Buffer.from(`${row.created_at}:${row.id}`).toString('base64url');
}

function decodeCursor(cursor: string): { createdAt: number; id: string } | undefined {
  const m = /^(\d+):(.+)$/.exec(Buffer.from(cursor, 'base64url').toString());
  return m ? { createdAt: Number(m[1]), id: m[2] as string } : undefined;
}

function toEvent(row: EventRow): JobEvent {
  return { jobId: row.job_id, seq: row.seq, type: row.type, data: JSON.parse(row.data) as Record<string, unknown>, at: row.at };
}

/**
 * The jobs tables. Every status change goes through `transition`, which only updates a row still in
 * the expected state, so a lost race (a cancel beating a completion) is visible to the loser.
 */
export class JobStore {
  constructor(
    private readonly db: Db,
    private readonly now: () => number,
  ) {
    migrate(db, 'jobs', JOB_MIGRATIONS);
  }

  /** Inserts a pending job and its first stream event; throws on a duplicate (owner, idempotency key). */
  insert(job: NewJob): { job: JobRow; event: JobEvent } {
    return this.db.transaction(() => {
      const at = this.now();
      this.db.prepare(`INSERT INTO jobs (id, owner, operation, options, input_meta, status, max_attempts, next_attempt_at,
          webhook_url, idempotency_key, request_hash, created_at, updated_at)
        VALUES (@id, @owner, @operation, @options, @input_meta, 'pending', @max_attempts, @at,
          @webhook_url, @idempotency_key, @request_hash, @at, @at)`).run({ ...job, at });
      const event = this.appendEvent(job.id, { type: 'status', data: { from: null, to: 'pending' } });
      return { job: this.get(job.id) as JobRow, event };
    })();
  }

  get(id: string): JobRow | undefined {
    return this.db.prepare('SELECT * FROM jobs WHERE id = ?').get(id) as JobRow | undefined;
  }

  getOwned(id: string, owner: string): JobRow | undefined {
    return this.db.prepare('SELECT * FROM jobs WHERE id = ? AND owner = ?').get(id, owner) as JobRow | undefined;
  }

  findByIdempotencyKey(owner: string, key: string): JobRow | undefined {
    return this.db.prepare('SELECT * FROM jobs WHERE owner = ? AND idempotency_key = ?').get(owner, key) as JobRow | undefined;
  }

  list(q: ListQuery): { jobs: JobRow[]; nextCursor: string | null } {
    const after = q.cursor ? decodeCursor(q.cursor) : undefined;
    const rows = this.db.prepare(`SELECT * FROM jobs WHERE owner = @owner
        AND (@status IS NULL OR status = @status)
        AND (@createdAt IS NULL OR created_at < @createdAt OR (created_at = @createdAt AND id < @id))
      ORDER BY created_at DESC, id DESC LIMIT @limit`).all({
      owner: q.owner, status: q.status ?? null, createdAt: after?.createdAt ?? null, id: after?.id ?? null, limit: q.limit + 1,
    }) as JobRow[];
    const more = rows.length > q.limit;
    const jobs = rows.slice(0, q.limit);
    const last = jobs[jobs.length - 1];
    return { jobs, nextCursor: more && last ? encodeCursor(last) : null };
  }

  /** Jobs per status, for the metrics gauge. */
  countByStatus(): Record<string, number> {
    const rows = this.db.prepare('SELECT status, COUNT(*) AS n FROM jobs GROUP BY status').all() as { status: string; n: number }[];
    return Object.fromEntries(rows.map((r) => [r.status, r.n]));
  }

  /** Pending and processing jobs: what the queue bound counts. */
  countActive(): number {
    return this.db.prepare(`SELECT COUNT(*) FROM jobs WHERE status IN ('pending','processing')`).pluck().get() as number;
  }

  nextDue(now: number): JobRow | undefined {
    return this.db.prepare(`SELECT * FROM jobs WHERE status = 'pending' AND next_attempt_at <= ?
      ORDER BY next_attempt_at, created_at LIMIT 1`).get(now) as JobRow | undefined;
  }

  earliestPendingAt(): number | undefined {
    const at = this.db.prepare(`SELECT MIN(next_attempt_at) FROM jobs WHERE status = 'pending'`).pluck().get() as number | null;
    return at ?? undefined;
  }

  idsIn(status: JobStatus): string[] {
    return this.db.prepare('SELECT id FROM jobs WHERE status = ? ORDER BY created_at').pluck().all(status) as string[];
  }

  /**
   * Moves a job from `from` to `to` with the patch, and appends a `status` event plus `extra` events,
   * in one transaction. Returns undefined when the job was no longer in `from` (the race was lost).
   */
  transition(id: string, from: JobStatus, to: JobStatus, patch: JobPatch = {}, extra: EventDraft[] = []):
    { job: JobRow; events: JobEvent[] } | undefined {
    return this.db.transaction(() => {
      const at = this.now();
      const keys = Object.keys(patch).filter((k) => (PATCHABLE as readonly string[]).includes(k));
      const sets = ['status = @to', 'updated_at = @at', ...keys.map((k) => `${k} = @${k}`)].join(', ');
      const changed = this.db.prepare(`UPDATE jobs SET ${sets} WHERE id = @id AND status = @from`)
        .run({ ...patch, id, from, to, at }).changes;
      if (changed === 0) return undefined;
      const events = [{ type: 'status', data: { from, to } } as EventDraft, ...extra].map((e) => this.appendEvent(id, e));
      return { job: this.get(id) as JobRow, events };
    })();
  }

  /** Updates columns without a status change, only while the job is in `status`. */
  patch(id: string, status: JobStatus, patch: JobPatch): boolean {
    const keys = Object.keys(patch).filter((k) => (PATCHABLE as readonly string[]).includes(k));
    if (keys.length === 0) return false;
    const sets = ['updated_at = @at', ...keys.map((k) => `${k} = @${k}`)].join(', ');
    return this.db.prepare(`UPDATE jobs SET ${sets} WHERE id = @id AND status = @status`)
      .run({ ...patch, id, status, at: this.now() }).changes > 0;
  }

  /** Progress of a running job, recorded as a column and as an event; undefined if no longer running. */
  recordProgress(id: string, progress: number, stage: string): JobEvent | undefined {
    return this.db.transaction(() => {
      if (!this.patch(id, 'processing', { progress, stage })) return undefined;
      return this.appendEvent(id, { type: 'progress', data: { progress, stage } });
    })();
  }

  eventsAfter(id: string, seq: number): JobEvent[] {
    const rows = this.db.prepare('SELECT * FROM job_events WHERE job_id = ? AND seq > ? ORDER BY seq').all(id, seq) as EventRow[];
    return rows.map(toEvent);
  }

  pendingWebhooks(): JobRow[] {
    return this.db.prepare(`SELECT * FROM jobs WHERE webhook_status = 'pending'`).all() as JobRow[];
  }

  setWebhookState(id: string, patch: Pick<JobPatch, 'webhook_status' | 'webhook_attempts' | 'webhook_next_at'>): void {
    const keys = Object.keys(patch);
    this.db.prepare(`UPDATE jobs SET ${keys.map((k) => `${k} = @${k}`).join(', ')} WHERE id = @id`).run({ ...patch, id });
  }

  recordDelivery(d: DeliveryRecord): void {
    this.db.prepare(`INSERT INTO webhook_deliveries (job_id, event, url, attempt, outcome, response_status, error, duration_ms, at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(d.jobId, d.event, d.url, d.attempt, d.outcome, d.responseStatus ?? null, d.error ?? null, d.durationMs, this.now());
  }

  deliveries(jobId: string): Array<DeliveryRecord & { at: number }> {
    const rows = this.db.prepare('SELECT * FROM webhook_deliveries WHERE job_id = ? ORDER BY id').all(jobId) as Array<Record<string, unknown>>;
    return rows.map((r) => ({
      jobId: r.job_id as string, event: r.event as string, url: r.url as string, attempt: r.attempt as number,
      outcome: r.outcome as DeliveryRecord['outcome'], responseStatus: (r.response_status as number | null) ?? undefined,
      error: (r.error as string | null) ?? undefined, durationMs: r.duration_ms as number, at: r.at as number,
    }));
  }

  /** Finished jobs whose files outlived RESULT_TTL. */
  filesExpired(cutoff: number): string[] {
    return this.db.prepare(`SELECT id FROM jobs WHERE finished_at IS NOT NULL AND finished_at <= ? AND files_purged_at IS NULL`)
      .pluck().all(cutoff) as string[];
  }

  markPurged(id: string): void {
    this.db.prepare('UPDATE jobs SET files_purged_at = ?, result_path = NULL WHERE id = ?').run(this.now(), id);
  }

  /** Deletes finished job rows (with their events and deliveries) older than JOB_HISTORY_TTL. */
  deleteHistory(cutoff: number): number {
    return this.db.prepare(`DELETE FROM jobs WHERE finished_at IS NOT NULL AND finished_at <= ? AND files_purged_at IS NOT NULL`)
      .run(cutoff).changes;
  }

  exists(id: string): boolean {
    return this.db.prepare('SELECT 1 FROM jobs WHERE id = ?').get(id) !== undefined;
  }

  private appendEvent(id: string, e: EventDraft): JobEvent {
    const at = this.now();
    const seq = (this.db.prepare('SELECT COALESCE(MAX(seq), 0) + 1 FROM job_events WHERE job_id = ?').pluck().get(id) as number);
    this.db.prepare('INSERT INTO job_events (job_id, seq, type, data, at) VALUES (?, ?, ?, ?, ?)').run(id, seq, e.type, JSON.stringify(e.data), at);
    return { jobId: id, seq, type: e.type, data: e.data, at };
  }
}
