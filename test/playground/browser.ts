import chromium from '@sparticuz/chromium';
import { chromium as playwright, type Browser } from 'playwright-core';

/**
 * A headless Chromium from npm alone: @sparticuz/chromium ships a brotli-packed Chromium (with its
 * own shared libraries, fonts and SwiftShader) that it unpacks into the temp dir on first use, so
 * `npm ci` is the whole install, with no apt packages and no browser download from a CDN; Playwright
 * drives it over CDP.
 */
export async function launchBrowser(): Promise<Browser> {
  return playwright.launch({ executablePath: await chromium.executablePath(), args: chromium.args, headless: true });
}
