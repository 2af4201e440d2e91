import type { JobRow, JobStatus } from './schema.js';

export interface JobLinks {
  self: string;
  result: string;
  events: string;
}

/** A job as clients see it (GET /api/v1/jobs/:id, list entries, webhook bodies). */
export interface JobView {
  id: string;
  operation: string;
  status: JobStatus;
  progress: number;
  stage: string | null;
  attempts: number;
  maxAttempts: number;
  nextAttemptAt: string | null;
  error: { code: string; message: string } | null;
  model: string | null;
  device: string | null;
  result: { kind: 'image' | 'json'; contentType: string; metadata: unknown; expired: boolean } | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  links: JobLinks;
}

export function jobLinks(id: string, base = '/api/v1/jobs'): JobLinks {
  return { self: `${base}/${id}`, result: `${base}/${id}/result`, events: `${base}/${id}/events` };
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function jobView(row: JobRow): JobView {
  const hasResult = row.result_kind !== null && row.result_type !== null;
  return {
    id: row.id,
    operation: row.operation,
    status: row.status,
    progress: row.progress,
    stage: row.stage,
    attempts: row.attempts,
    maxAttempts: row.max_attempts,
    nextAttemptAt: row.status === 'pending' && row.attempts > 0 ? iso(row.next_attempt_at) : null,
    error: row.error_code ? { code: row.error_code, message: row.error_message ?? '' } : null,
    model: row.model,
    device: row.device,
    result: hasResult
      ? {
          kind: row.result_kind as 'image' | 'json',
          contentType: row.result_type as string,
          metadata: row.result_metadata ? (JSON.parse(row.result_metadata) as unknown) : null,
          expired: row.files_purged_at !== null,
        }
      : null,
    createdAt: iso(row.created_at) as string,
    startedAt: iso(row.started_at),
    finishedAt: iso(row.finished_at),
    links: jobLinks(row.id),
  };
}
