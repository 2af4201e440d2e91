import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/**
 * A temp file next to `dest` (same directory, so the final rename is atomic on one filesystem).
 * Readers never see a half-written model: it only appears under its name once complete.
 */
export function tempPathFor(dest: string): string {
  return path.join(path.dirname(dest), `.${path.basename(dest)}.${randomBytes(4).toString('hex')}.tmp`);
}

export async function commitFile(temp: string, dest: string): Promise<void> {
  await fs.promises.rename(temp, dest);
}

export async function writeFileAtomic(dest: string, data: Uint8Array | string): Promise<void> {
  const temp = tempPathFor(dest);
  try {
    await fs.promises.writeFile(temp, data);
    await commitFile(temp, dest);
  } catch (err) {
    await fs.promises.rm(temp, { force: true });
    throw err;
  }
}

