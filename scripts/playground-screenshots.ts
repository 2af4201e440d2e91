/**
 * The README's playground screenshots: `npx tsx scripts/playground-screenshots.ts`. Starts the
 * service on the weights in MODEL_DIR (default `.models/`, where the real-weight tests cache them),
 * drives the playground in headless Chromium through each task on the fixture photos, and writes
 * docs/playground/<task>.jpg. Tasks whose weights are absent are shown with their 503 answer.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { startService } from '../src/service.js';
import { launchBrowser } from '../test/playground/browser.js';
import { fixturePath } from '../test/kit/fixtures.js';

const root = fileURLToPath(new URL('../', import.meta.url));
const out = path.join(root, 'docs/playground');
fs.mkdirSync(out, { recursive: true });

const SHOTS: { task: string; file: string; options?: Record<string, string>; extra?: [string, string] }[] = [
  { task: 'remove-background', file: 'faces-group-2.jpg' },
  { task: 'upscale', file: 'small-128.png', options: { scale: '2' } },
  { task: 'face-detect', file: 'faces-group-1.jpg' },
  { task: 'face-analyze', file: 'faces-group-2.jpg' },
  { task: 'detect-objects', file: 'objects-lounge.jpg' },
  { task: 'ocr', file: 'text-webpage.png' },
  { task: 'inpaint', file: 'faces-group-2.jpg', options: { boxes: '[{"x":1350,"y":100,"width":320,"height":340}]' } },
  { task: 'beauty-filter', file: 'faces-group-1.jpg', options: { strength: '0.8' } },
  { task: 'transfer-style', file: 'objects-lounge.jpg', extra: ['style', 'faces-group-2.jpg'] },
  { task: 'enhance-face', file: 'faces-group-1.jpg' },
  { task: 'estimate-depth', file: 'objects-lounge.jpg' },
];

const config = loadConfig({
  PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn', PULL_MODELS_ON_START: 'false',
  MODEL_DIR: process.env.MODEL_DIR ?? path.join(root, '.models'), DATA_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'fotofun-shots-')),
});
const service = await startService(config, createLogger('warn'));
await service.ready;
const url = `http://127.0.0.1:${(service.server.address() as { port: number }).port}/`;
const browser = await launchBrowser();
try {
  const page = await browser.newPage({ viewport: { width: 1500, height: 950 } });
  await page.goto(url);
  await page.waitForSelector('body[data-ready="true"]');
  for (const shot of SHOTS) {
    await page.selectOption('#task', shot.task);
    await page.setInputFiles('#file', fixturePath(shot.file));
    if (shot.extra) await page.setInputFiles(`#extra-${shot.extra[0]}`, fixturePath(shot.extra[1]));
    for (const [name, value] of Object.entries(shot.options ?? {})) {
      const el = await page.$(`#options [name="${name}"]`);
      if ((await el?.evaluate((e) => e.tagName)) === 'SELECT') await page.selectOption(`#options [name="${name}"]`, value);
      else await page.fill(`#options [name="${name}"]`, value);
    }
    const jobs = await page.$$eval('#jobs li', (l) => l.length);
    await page.click('#run');
    await page.waitForFunction((n) => {
      const li = document.querySelectorAll('#jobs li');
      return (li.length > n && ['completed', 'failed', 'cancelled'].includes((li[0] as HTMLElement).dataset.status ?? '')) || document.querySelector('#error')?.textContent !== '';
    }, jobs, { timeout: 300_000 });
    await page.waitForTimeout(500);
    await page.screenshot({ path: path.join(out, `${shot.task}.jpg`), type: 'jpeg', quality: 70 });
    console.log(`${shot.task}: ${(await page.textContent('#error')) || 'ok'}`);
  }
} finally {
  await browser.close();
  await service.shutdown();
}
