import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { renderSdkOptionTypes } from '../src/openapi/sdk-types.js';

/** Writes the SDK's option types from the service's schemas: `npm run sdk:types`. */
const target = fileURLToPath(new URL('../packages/client/src/generated/options.ts', import.meta.url));
fs.mkdirSync(new URL('../packages/client/src/generated/', import.meta.url), { recursive: true });
fs.writeFileSync(target, renderSdkOptionTypes());
console.log(`wrote ${target}`);
