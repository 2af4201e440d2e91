import type { Server } from 'node:http';
import type { Logger } from 'pino';

export interface Closer {
  name: string;
  close(): Promise<void> | void;
  /** Starts together with the HTTP drain instead of after it (the job queue stops claiming work). */
  withDrain?: boolean;
}

async function closeOne(c: Closer, logger: Logger): Promise<void> {
  try {
    await c.close();
  } catch (err) {
    logger.error({ err, component: c.name }, 'error while closing');
  }
}

/**
 * Stops accepting connections, lets in-flight requests finish for up to `timeoutMs`, then cuts the
 * remaining connections and closes each component in order (models before the database); closers
 * marked `withDrain` start at once and are awaited before the others.
 * Safe to call twice: the second call returns the first call's promise.
 */
export function createShutdown(server: Server, closers: Closer[], timeoutMs: number, logger: Logger): () => Promise<void> {
  let running: Promise<void> | undefined;
  return () => {
    running ??= (async () => {
      logger.info({ timeoutMs }, 'shutting down: no new connections, finishing in-flight requests');
      const early = closers.filter((c) => c.withDrain).map((c) => closeOne(c, logger));
      const drained = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), timeoutMs);
      });
      if ((await Promise.race([drained, timedOut])) === 'timeout') {
        logger.warn('in-flight requests did not finish within SHUTDOWN_TIMEOUT; closing their connections');
        server.closeAllConnections();
      }
      clearTimeout(timer);
      await Promise.all(early);
      for (const c of closers) if (!c.withDrain) await closeOne(c, logger);
      logger.info('shutdown complete');
    })();
    return running;
  };
}
