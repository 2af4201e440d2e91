import fs from 'node:fs';
import { writeFileAtomic } from './atomic.js';
import { sha256File } from './hash.js';

/**
 * Trust-on-first-use records: for a file the manifest gives no digest for, the digest of the first
 * completed copy is kept beside it as `<file>.sha256` (sha256sum format), and later verifies
 * compare against that.
 */
export const recordPath = (filePath: string) => `${filePath}.sha256`;

export async function readRecord(filePath: string): Promise<string | undefined> {
  const text = await fs.promises.readFile(recordPath(filePath), 'utf8').catch(() => undefined);
  const m = text === undefined ? null : /^([0-9a-f]{64})\b/.exec(text);
  return m?.[1];
}

export async function writeRecord(filePath: string, sha256: string): Promise<void> {
  const name = filePath.split(/[\\/]/).pop();
  await writeFileAtomic(recordPath(filePath), `${sha256}  ${name}\n`);
}

export type FileCheck =
  | { file: string; state: 'ok'; sha256: string; recorded: boolean }
  | { file: string; state: 'missing' }
  | { file: string; state: 'size-mismatch'; expected: number; actual: number }
  | { file: string; state: 'mismatch'; expected: string; actual: string };

/**
 * Full check of one stored file. With no expected digest and no record yet, the digest is
 * recorded now (trust on first use) and the file passes.
 */
export async function checkFile(filePath: string, expected: { sha256?: string; size?: number }): Promise<FileCheck> {
  const stat = await fs.promises.stat(filePath).catch(() => undefined);
  if (!stat) return { file: filePath, state: 'missing' };
  if (expected.size !== undefined && stat.size !== expected.size) {
    return { file: filePath, state: 'size-mismatch', expected: expected.size, actual: stat.size };
  }
  const actual = await sha256File(filePath);
  const want = expected.sha256 ?? (await readRecord(filePath));
  if (want === undefined) {
    await writeRecord(filePath, actual);
    return { file: filePath, state: 'ok', sha256: actual, recorded: true };
  }
  if (want !== actual) return { file: filePath, state: 'mismatch', expected: want, actual };
  return { file: filePath, state: 'ok', sha256: actual, recorded: false };
}
