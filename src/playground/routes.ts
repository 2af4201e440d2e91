import { fileURLToPath } from 'node:url';
import express, { Router } from 'express';

/** Both beside the project root, from src/ (tsx) and from dist/ (the compiled build) alike. */
const PLAYGROUND_DIR = fileURLToPath(new URL('../../playground/', import.meta.url));
const SDK_DIR = fileURLToPath(new URL('../../packages/client/dist/', import.meta.url));

/**
 * The browser playground at GET / (static files, no build step: plain ES modules) and the client
 * SDK it imports, compiled by `npm run build:sdk`, at /sdk/. Public, like /docs: the page asks for
 * an API key and the SDK sends it with each call.
 */
export function playgroundRoutes(): Router {
  const router = Router();
  router.get('/', (_req, res) => res.sendFile('index.html', { root: PLAYGROUND_DIR }));
  router.use('/playground', express.static(PLAYGROUND_DIR, { index: false, maxAge: '1h' }));
  router.use('/sdk', express.static(SDK_DIR, { index: false, maxAge: '1h' }));
  return router;
}
