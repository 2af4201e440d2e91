import { createRequire } from 'node:module';
import path from 'node:path';
import express, { Router } from 'express';
import type { TaskDefinition } from '../tasks/types.js';
import { VERSION } from '../version.js';
import { buildOpenApiDocument } from './document.js';

const SWAGGER_UI_DIR = path.dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));

/** Swagger UI from the swagger-ui-dist package, served by us: no CDN, so it works on an offline network. */
const DOCS_PAGE = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>FotoFun AI Service API</title>
  <link rel="stylesheet" href="/docs/assets/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/docs/assets/swagger-ui-bundle.js"></script>
  <script src="/docs/swagger-init.js"></script>
</body>
</html>
`;

/** Kept out of the page so a Content-Security-Policy without inline scripts still allows it. */
const INIT_SCRIPT = `window.ui = SwaggerUIBundle({ url: '/openapi.json', dom_id: '#swagger-ui', deepLinking: true, persistAuthorization: true });\n`;

/** GET /openapi.json (built once) and the interactive docs at GET /docs; both public. */
export function docsRoutes(tasks: readonly TaskDefinition[]): Router {
  const router = Router();
  let document: string | undefined;
  router.get('/openapi.json', (_req, res) => {
    document ??= JSON.stringify(buildOpenApiDocument({ tasks, version: VERSION }));
    res.type('application/json').send(document);
  });
  router.get('/docs', (_req, res) => {
    res.type('text/html').send(DOCS_PAGE);
  });
  router.get('/docs/swagger-init.js', (_req, res) => {
    res.type('text/javascript').send(INIT_SCRIPT);
  });
  router.use('/docs/assets', express.static(SWAGGER_UI_DIR, { index: false, maxAge: '1d' }));
  return router;
}
