import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Express } from 'express';
import { after, before, describe, test } from 'node:test';
import { Validator } from '@seriousme/openapi-schema-validator';
import type { z } from 'zod';
import { loadConfig } from '../../src/config.js';
import { ERROR_CATALOGUE } from '../../src/errors.js';
import { createLogger } from '../../src/logger.js';
import { listRoutes } from '../../src/openapi/routes.js';
import { startService, type Service } from '../../src/service.js';
import type { TaskDefinition } from '../../src/tasks/types.js';

type Doc = { paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: { properties: Record<string, { properties?: Record<string, unknown> }> } }> } }>>; components: { schemas: { ErrorCode: { enum: string[] } } } };

/** Express's /jobs/:id as OpenAPI's /jobs/{id}, without a mount's trailing slash. */
const openApiPath = (p: string) => (p.length > 1 ? p.replace(/\/$/, '') : p).replace(/:(\w+)/g, '{$1}');

describe('the OpenAPI document of the service as npm start wires it', () => {
  let service: Service;
  let url: string;
  let doc: Doc;
  before(async () => {
    const config = loadConfig({
      PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', PULL_MODELS_ON_START: 'false', AUTH_MODE: 'users',
      DATA_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'fotofun-openapi-')), MODEL_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'fotofun-openapi-models-')),
    });
    service = await startService(config, createLogger('silent'));
    url = `http://127.0.0.1:${(service.server.address() as { port: number }).port}`;
    doc = (await (await fetch(`${url}/openapi.json`)).json()) as Doc;
  });
  after(() => service.shutdown());

  test('every registered route is in the document, and every documented route is served', () => {
    const app = service.server.listeners('request')[0] as Express;
    // The docs' and the playground's static files are pages, not API.
    const served = listRoutes(app).filter((r) => !r.path.startsWith('/docs/') && r.path !== '/' && !r.path.startsWith('/playground') && !r.path.startsWith('/sdk'));
    assert.ok(served.length > 40, `${served.length} routes found`);
    for (const r of served) assert.ok(doc.paths[openApiPath(r.path)]?.[r.method.toLowerCase()], `${r.method} ${r.path} is missing from /openapi.json`);
    const servedKeys = new Set(served.map((r) => `${r.method.toLowerCase()} ${openApiPath(r.path)}`));
    for (const [p, methods] of Object.entries(doc.paths)) for (const m of Object.keys(methods)) assert.ok(servedKeys.has(`${m} ${p}`), `${m.toUpperCase()} ${p} is documented but not served`);
  });

  test("every task's options are in its request schema", async () => {
    const { transferStyleTask } = await import('../../src/tasks/transfer-style.js');
    const { ocrTask } = await import('../../src/tasks/ocr.js');
    const { removeBackgroundTask } = await import('../../src/tasks/remove-background.js');
    const { upscaleTask } = await import('../../src/tasks/upscale.js');
    const { estimateDepthTask } = await import('../../src/tasks/estimate-depth.js');
    const { detectObjectsTask } = await import('../../src/tasks/detect-objects.js');
    const { faceDetectTask, faceAnalyzeTask } = await import('../../src/tasks/face-detect.js');
    const tasks: TaskDefinition[] = [transferStyleTask, ocrTask, removeBackgroundTask, upscaleTask, estimateDepthTask, detectObjectsTask, faceDetectTask, faceAnalyzeTask];
    for (const task of tasks) {
      const shape = (task.options as unknown as z.ZodObject).shape;
      const documented = doc.paths[`/api/v1/${task.route}`]?.post?.requestBody?.content['application/json']?.schema.properties.options?.properties ?? {};
      for (const option of Object.keys(shape)) assert.ok(option in documented, `${task.name}: option ${option} is not documented`);
      const fields = task.images ? [...task.images.main, ...task.images.extra] : ['image'];
      const multipart = doc.paths[`/api/v1/${task.route}`]?.post?.requestBody?.content['multipart/form-data']?.schema.properties ?? {};
      for (const f of fields) assert.ok(f in multipart, `${task.name}: image field ${f}`);
    }
  });

  test('the document validates as OpenAPI 3.1 and lists every error code', async () => {
    const result = await new Validator().validate(doc as never);
    assert.equal(result.valid, true, JSON.stringify(result.errors));
    assert.deepEqual(doc.components.schemas.ErrorCode.enum.sort(), Object.keys(ERROR_CATALOGUE).sort());
  });

  test('/docs serves Swagger UI from the package, pointed at /openapi.json, without signing in', async () => {
    const page = await fetch(`${url}/docs`);
    assert.equal(page.status, 200);
    const html = await page.text();
    assert.match(html, /<div id="swagger-ui">/);
    for (const asset of [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!)) {
      const res = await fetch(`${url}${asset}`);
      assert.equal(res.status, 200, asset);
      const body = await res.text();
      if (asset.endsWith('swagger-ui-bundle.js')) assert.ok(body.length > 500_000 && body.includes('SwaggerUIBundle'), 'the real bundle');
      if (asset.endsWith('swagger-init.js')) assert.match(body, /url: '\/openapi\.json'/);
    }
  });
});
