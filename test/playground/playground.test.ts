import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import sharp from 'sharp';
import { fixturePath } from '../kit/fixtures.js';
import { startTinyService, type TestService } from '../sdk/service.js';
import { launchBrowser } from './browser.js';

describe('the playground in headless Chromium, against the service on tiny weights', () => {
  let svc: TestService;
  let browser: Browser;
  let page: Page;
  let photo: Buffer;
  before(async () => {
    svc = await startTinyService();
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    page.on('pageerror', (err) => console.error('page error:', err));
    await page.goto(`${svc.url}/`);
    await page.waitForSelector('body[data-ready="true"]');
    photo = await sharp({ create: { width: 240, height: 180, channels: 3, background: { r: 235, g: 235, b: 235 } } })
      .composite([{ input: { create: { width: 120, height: 90, channels: 3, background: { r: 15, g: 15, b: 15 } } }, left: 60, top: 45 }]).png().toBuffer();
  });
  after(async () => {
    await browser?.close();
    await svc?.close();
  });

  const upload = (name: string) => page.setInputFiles('#file', { name, mimeType: 'image/png', buffer: photo });

  test('the task list and each task’s options form come from the service’s schemas', async () => {
    const tasks = await page.$$eval('#task option', (os) => os.map((o) => (o as HTMLOptionElement).value));
    for (const t of ['remove-background', 'upscale', 'face-detect', 'detect-objects', 'ocr', 'inpaint', 'enhance-face', 'beauty-filter', 'transfer-style', 'estimate-depth']) assert.ok(tasks.includes(t), t);
    await page.selectOption('#task', 'upscale');
    const scale = await page.$$eval('#options select[name="scale"] option', (os) => os.map((o) => (o as HTMLOptionElement).textContent));
    assert.deepEqual(scale, ['(default: 4)', '2', '3', '4', '8']);
    await page.selectOption('#task', 'transfer-style');
    assert.ok(await page.$('#extra-style'), 'a style image field for transfer-style');
  });

  test('background removal: upload a fixture, run, the result image appears and the job shows completed', async () => {
    await page.selectOption('#task', 'remove-background');
    await page.setInputFiles('#file', fixturePath('small-128.png'));
    await page.click('#run');
    await page.waitForSelector('#after[data-loaded="true"]', { timeout: 30_000 });
    const size = await page.$eval('#after', (img) => [(img as HTMLImageElement).naturalWidth, (img as HTMLImageElement).naturalHeight]);
    assert.deepEqual(size, [128, 128]);
    assert.equal(await page.$eval('#jobs li', (li) => (li as HTMLElement).dataset.status), 'completed');
    assert.equal(await page.textContent('#error'), '');
  });

  test('face detection: the boxes are drawn over the photo', async () => {
    await page.selectOption('#task', 'face-detect');
    await page.setInputFiles('#file', fixturePath('faces-group-1.jpg'));
    await page.click('#run');
    await page.waitForSelector('#boxes:not([data-count="0"])', { timeout: 30_000 });
    assert.equal(await page.$eval('#boxes', (c) => (c as HTMLElement).dataset.count), '1');
    assert.match((await page.textContent('#json')) ?? '', /"faces"/);
    const painted = await page.$eval('#boxes', (c) => {
      const canvas = c as HTMLCanvasElement;
      const px = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
      let n = 0;
      for (let i = 3; i < px.length; i += 4) if (px[i]! > 0) n++;
      return n;
    });
    assert.ok(painted > 100, `${painted} box pixels painted`);
  });

  test('an error is shown with its code; the models panel lists the models', async () => {
    await page.selectOption('#task', 'upscale');
    await upload('photo.png');
    await page.fill('#options input[name="tilePad"]', '-5');
    await page.click('#run');
    await page.waitForFunction(() => (document.querySelector('#error')?.textContent ?? '') !== '');
    assert.match((await page.textContent('#error')) ?? '', /^INVALID_OPTIONS/);
    const models = await page.$$eval('#models tbody td:first-child', (tds) => tds.map((t) => t.textContent));
    assert.ok(models.includes('isnet-general'));
  });
});

test('behind an API key: the page and the SDK load without it, a run without it shows UNAUTHORIZED, with the key typed in it works', async () => {
  const svc = await startTinyService({ AUTH_MODE: 'key', API_KEY: 'playground-test-key-0123456789' });
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage();
    await page.goto(`${svc.url}/`);
    await page.waitForSelector('body[data-ready="true"]');
    await page.selectOption('#task', 'remove-background');
    await page.setInputFiles('#file', fixturePath('small-128.png'));
    await page.click('#run');
    await page.waitForFunction(() => (document.querySelector('#error')?.textContent ?? '') !== '');
    assert.match((await page.textContent('#error')) ?? '', /^UNAUTHORIZED/);
    await page.fill('#api-key', 'playground-test-key-0123456789');
    await page.dispatchEvent('#api-key', 'change');
    await page.click('#run');
    await page.waitForSelector('#after[data-loaded="true"]', { timeout: 30_000 });
    assert.equal(await page.textContent('#error'), '');
    assert.equal(await page.evaluate(() => localStorage.getItem('fotofun-playground-key')), 'playground-test-key-0123456789', 'the key is kept for the next visit');
  } finally {
    await browser.close();
    await svc.close();
  }
});
