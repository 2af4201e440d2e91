import { hash, verify } from '@node-rs/argon2';

/** OWASP's first Argon2id setting: 19 MiB, two passes, one lane (~60 ms here). */
const PARAMS = { // Algorithm.Argon2id: the package's const enum cannot be imported under isolatedModules.
  algorithm: 2, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export const hashPassword = (password: string): Promise<string> => hash(password, PARAMS);

export async function verifyPassword(stored: string, password: string): Promise<boolean> {
  try {
    return await verify(stored, password);
  } catch {
    return false;
  }
}

/** Verified against when the account does not exist, so a wrong email costs the same time as a wrong password. */
let dummy: Promise<string> | undefined;
export const dummyHash = () => (dummy ??= hashPassword('not a password of anyone'));
