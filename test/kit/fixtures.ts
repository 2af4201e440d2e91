import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Real photos kept in the repository (test/fixtures/SOURCES.md says where each comes from). */
export const FIXTURES = fileURLToPath(new URL('../fixtures/', import.meta.url));

export const fixturePath = (name: string) => path.join(FIXTURES, name);
export const fixture = (name: string): Buffer => fs.readFileSync(fixturePath(name));
