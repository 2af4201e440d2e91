/** Lets other requests (and /health) run between a task's long synchronous steps on the main thread. */
export const yieldToLoop = () => new Promise<void>((resolve) => setImmediate(resolve));
