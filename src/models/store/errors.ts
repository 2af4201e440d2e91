import { AppError } from '../../errors.js';

/** The command an operator runs to (re)fetch a model. */
export const pullCommand = (id: string) => `npm run models -- pull ${id}`;

export function unknownModel(id: string, known: string[]): AppError {
  return new AppError('NOT_FOUND', `No model "${id}" in the manifest. Known models: ${known.join(', ')}.`, {
    details: { modelId: id },
  });
}

export function checksumMismatch(id: string, filePath: string, expected: string, actual: string): AppError {
  return new AppError(
    'MODEL_UNAVAILABLE',
    `Refusing to load ${id}: ${filePath} has sha256 ${actual} but the manifest expects ${expected}. ` +
      `Delete it and run \`${pullCommand(id)}\`, or place the correct file there.`,
    { details: { modelId: id, file: filePath, expected, actual } },
  );
}

export function sizeMismatch(id: string, filePath: string, expected: number, actual: number): AppError {
  return new AppError(
    'MODEL_UNAVAILABLE',
    `Refusing to load ${id}: ${filePath} is ${actual} bytes but the manifest expects ${expected} (truncated or a different file). ` +
      `Delete it and run \`${pullCommand(id)}\`, or place the correct file there.`,
    { details: { modelId: id, file: filePath, expected, actual } },
  );
}

/**
 * A model that could not be fetched. `manual` says where an operator can put the file by hand
 * (path and digest), for machines that cannot reach the source.
 */
export function fetchFailed(id: string, what: string, reason: string, manual: { path: string; sha256?: string }[], cause?: unknown): AppError {
  const place = manual
    .map((m) => `${m.path} (sha256 ${m.sha256 ?? 'recorded on first use'})`)
    .join(', ');
  return new AppError(
    'MODEL_UNAVAILABLE',
    `Model ${id} is unavailable: fetching ${what} failed (${reason}). ` +
      `Retry with \`${pullCommand(id)}\`, or download it on a machine that can and place it at ${place}.`,
    { details: { modelId: id, source: what, reason }, cause },
  );
}

export class DownloadTimeoutError extends Error {
  constructor(readonly what: string, readonly timeoutMs: number) {
    super(`no data from ${what} for ${Math.round(timeoutMs / 1000)} s (DOWNLOAD_TIMEOUT)`);
    this.name = 'DownloadTimeoutError';
  }
}
