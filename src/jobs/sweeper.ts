import type { JobFiles } from './files.js';
import type { JobStore } from './store.js';

export interface RetentionPolicy {
  /** Inputs and results of finished jobs are deleted this long after the job ends (RESULT_TTL). */
  resultTtlMs: number;
  /** Finished job rows are deleted this long after the job ends (JOB_HISTORY_TTL). */
  historyTtlMs: number;
  /**
   * A job directory without a row is what a crash between writing the input and inserting the row
   * leaves behind; it is removed once older than this, which is far longer than any submit takes.
   */
  orphanGraceMs: number;
}

export interface SweepStats {
  filesRemoved: number;
  rowsRemoved: number;
  orphansRemoved: number;
}

/** One retention pass: expired files, then old rows (only once their files are gone), then orphans. */
export async function sweepOnce(store: JobStore, files: JobFiles, policy: RetentionPolicy, now: number): Promise<SweepStats> {
  const expired = store.filesExpired(now - policy.resultTtlMs);
  for (const id of expired) {
    await files.remove(id);
    store.markPurged(id);
  }
  const rowsRemoved = store.deleteHistory(now - Math.max(policy.historyTtlMs, policy.resultTtlMs));
  let orphansRemoved = 0;
  for (const dir of await files.listDirs()) {
    if (dir.mtimeMs > now - policy.orphanGraceMs || store.exists(dir.id)) continue;
    await files.remove(dir.id);
    orphansRemoved += 1;
  }
  return { filesRemoved: expired.length, rowsRemoved, orphansRemoved };
}
