import { DownloadTimeoutError } from './errors.js';

/**
 * Fails a transfer that goes quiet: `poke()` on every chunk restarts the clock, so a large but
 * steady download is never cut off while an unreachable host fails after `timeoutMs`.
 */
export class Watchdog {
  readonly controller = new AbortController();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly what: string,
    private readonly timeoutMs: number,
  ) {
    this.poke();
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  poke(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.controller.abort(new DownloadTimeoutError(this.what, this.timeoutMs)), this.timeoutMs);
    this.timer.unref();
  }

  /** Rejects when the watchdog fires, so it can be raced against work that takes no signal. */
  expired(): Promise<never> {
    return new Promise((_, reject) => {
      const fire = () => reject(this.controller.signal.reason);
      if (this.controller.signal.aborted) fire();
      else this.controller.signal.addEventListener('abort', fire, { once: true });
    });
  }

  stop(): void {
    clearTimeout(this.timer);
  }
}
