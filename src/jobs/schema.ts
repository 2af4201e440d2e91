import type { Migration } from '../db/database.js';

export const JOB_STATUSES = ['pending', 'processing', 'completed', 'failed', 'cancelled'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];
export const TERMINAL: readonly JobStatus[] = ['completed', 'failed', 'cancelled'];

export type WebhookStatus = 'pending' | 'delivered' | 'failed';

/** One row of `jobs`, as stored (JSON columns still text). */
export interface JobRow {
  id: string;
  owner: string;
  operation: string;
  options: string;
  input_meta: string;
  status: JobStatus;
  progress: number;
  stage: string | null;
  attempts: number;
  max_attempts: number;
  next_attempt_at: number;
  error_code: string | null;
  error_message: string | null;
  model: string | null;
  device: string | null;
  result_path: string | null;
  result_kind: 'image' | 'json' | null;
  result_type: string | null;
  result_metadata: string | null;
  webhook_url: string | null;
  webhook_status: WebhookStatus | null;
  webhook_attempts: number;
  webhook_next_at: number | null;
  idempotency_key: string | null;
  request_hash: string | null;
  cancel_requested: number;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
  updated_at: number;
  files_purged_at: number | null;
}

export type EventType = 'status' | 'progress' | 'done' | 'failed';

/** One entry of a job's event stream (SSE ids are `seq`). */
export interface JobEvent {
  jobId: string;
  seq: number;
  type: EventType;
  data: Record<string, unknown>;
  at: number;
}

export const JOB_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    sql: `
      CREATE TABLE jobs (
        id TEXT PRIMARY KEY,
        owner TEXT NOT NULL,
        operation TEXT NOT NULL,
        options TEXT NOT NULL,
        input_meta TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('pending','processing','completed','failed','cancelled')),
        progress REAL NOT NULL DEFAULT 0,
        stage TEXT,
        attempts INTEGER NOT NULL DEFAULT 0,
        max_attempts INTEGER NOT NULL,
        next_attempt_at INTEGER NOT NULL,
        error_code TEXT,
        error_message TEXT,
        model TEXT,
        device TEXT,
        result_path TEXT,
        result_kind TEXT,
        result_type TEXT,
        result_metadata TEXT,
        webhook_url TEXT,
        webhook_status TEXT,
        webhook_attempts INTEGER NOT NULL DEFAULT 0,
        webhook_next_at INTEGER,
        idempotency_key TEXT,
        request_hash TEXT,
        cancel_requested INTEGER NOT NULL DEFAULT 0,
        created_at INTEGER NOT NULL,
        started_at INTEGER,
        finished_at INTEGER,
        updated_at INTEGER NOT NULL,
        files_purged_at INTEGER,
        UNIQUE (owner, idempotency_key)
      );
      CREATE INDEX jobs_due ON jobs (status, next_attempt_at);
      CREATE INDEX jobs_owner_created ON jobs (owner, created_at DESC, id DESC);
      CREATE INDEX jobs_finished ON jobs (finished_at);
      CREATE TABLE job_events (
        job_id TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
        seq INTEGER NOT NULL,
        type TEXT NOT NULL,
        data TEXT NOT NULL,
        at INTEGER NOT NULL,
        PRIMARY KEY (job_id, seq)
      );
      CREATE TABLE webhook_deliveries (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        job_id TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
        event TEXT NOT NULL,
        url TEXT NOT NULL,
        attempt INTEGER NOT NULL,
        outcome TEXT NOT NULL CHECK (outcome IN ('delivered','failed','refused')),
        response_status INTEGER,
        error TEXT,
        duration_ms INTEGER NOT NULL,
        at INTEGER NOT NULL
      );
      CREATE INDEX webhook_deliveries_job ON webhook_deliveries (job_id);
    `,
  },
];
