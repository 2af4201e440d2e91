import type { Request, Response } from 'express';
import type { Clock, TimerHandle } from './clock.js';
import type { JobQueue } from './queue.js';
import { TERMINAL, type JobEvent } from './schema.js';

export interface SseOptions {
  heartbeatMs: number;
  clock: Clock;
}

/** Last-Event-ID header (browsers resend it on reconnect) or ?lastEventId= for clients that cannot set headers. */
export function lastEventId(req: Request): number {
  const raw = req.get('last-event-id') ?? (typeof req.query.lastEventId === 'string' ? req.query.lastEventId : undefined);
  const n = Number(raw);
  return raw !== undefined && Number.isSafeInteger(n) && n >= 0 ? n : 0;
}

function isFinal(e: JobEvent): boolean {
  return e.type === 'done' || e.type === 'failed' || (e.type === 'status' && e.data.to === 'cancelled');
}

function frame(e: JobEvent): string {
  const data = JSON.stringify({ jobId: e.jobId, ...e.data, at: new Date(e.at).toISOString() });
  return `id: ${e.seq}\nevent: ${e.type}\ndata: ${data}\n\n`;
}

/**
 * Streams a job's events: first the stored ones after Last-Event-ID, then live ones, with comment
 * heartbeats so proxies keep the connection; ends after done, failed or cancellation. Events are
 * stored before they are emitted and SQLite reads are synchronous, so nothing falls between the
 * replay and the subscription.
 */
export function streamJobEvents(queue: JobQueue, req: Request, res: Response, id: string, owner: string, o: SseOptions): void {
  let last = lastEventId(req);
  const { events } = queue.eventsAfter(id, owner, last);
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
  res.write('retry: 3000\n\n');
  let heartbeat: TimerHandle | undefined;
  let ended = false;
  const end = () => {
    if (ended) return;
    ended = true;
    queue.off('event', onEvent);
    if (heartbeat !== undefined) o.clock.clearTimeout(heartbeat);
    res.end();
  };
  const send = (e: JobEvent) => {
    if (ended || e.seq <= last) return;
    last = e.seq;
    res.write(frame(e));
    if (isFinal(e)) end();
  };
  const onEvent = (e: JobEvent) => {
    if (e.jobId === id) send(e);
  };
  const beat = () => {
    heartbeat = o.clock.setTimeout(() => {
      res.write(': heartbeat\n\n');
      beat();
    }, o.heartbeatMs);
  };
  queue.on('event', onEvent);
  req.once('close', end);
  for (const e of events) send(e);
  // A client resuming after the final event has nothing left to wait for.
  if (!ended && TERMINAL.includes(queue.store.get(id)?.status ?? 'cancelled')) end();
  if (!ended) beat();
}
