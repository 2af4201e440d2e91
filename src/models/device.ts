import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import * as ort from 'onnxruntime-node';
import type { Config } from '../config.js';

const run = promisify(execFile);

export interface DeviceInfo {
  /** 'cuda:0' when the CUDA execution provider is usable, else 'cpu'. */
  primary: 'cpu' | 'cuda:0';
  vramTotalMB?: number;
  reason: string;
}

/** Total memory of GPU 0 from nvidia-smi, in MB; undefined when it is absent or says nothing useful. */
async function nvidiaSmiTotalMB(): Promise<number | undefined> {
  try {
    const { stdout } = await run('nvidia-smi', ['--query-gpu=memory.total', '--format=csv,noheader,nounits', '-i', '0'], { timeout: 5000 });
    const mb = Number(stdout.trim().split('\n')[0]);
    return Number.isFinite(mb) && mb > 0 ? mb : undefined;
  } catch {
    return undefined;
  }
}

export interface GpuReading {
  usedMB: number;
  totalMB: number;
  /** 0..1, the share of the last sample period a kernel ran. */
  utilization: number;
}

/**
 * GPU 0's used and total memory and utilisation, polled from nvidia-smi in the background (a scrape must not wait
 * on a subprocess); undefined until the first answer, or when nvidia-smi gives none.
 */
export function gpuMemoryPoller(intervalMs = 15_000): { read: () => GpuReading | undefined; stop: () => void } {
  let last: GpuReading | undefined;
  const poll = () => {
    run('nvidia-smi', ['--query-gpu=memory.used,memory.total,utilization.gpu', '--format=csv,noheader,nounits', '-i', '0'], { timeout: 5000 })
      .then(({ stdout }) => {
        const [used, total, busy] = stdout.trim().split('\n')[0]!.split(',').map((v) => Number(v.trim()));
        const ok = [used, total, busy].every(Number.isFinite) && total! > 0;
        last = ok ? { usedMB: used!, totalMB: total!, utilization: busy! / 100 } : undefined;
      })
      .catch(() => {
        last = undefined;
      });
  };
  poll();
  const timer = setInterval(poll, intervalMs);
  timer.unref();
  return { read: () => last, stop: () => clearInterval(timer) };
}

/**
 * DEVICE=cpu forces CPU; auto and cuda need onnxruntime-node's CUDA provider (installed at image
 * build time with ORT_INSTALL=cuda12) and a VRAM size (VRAM_TOTAL_MB or nvidia-smi).
 */
export async function detectDevice(config: Pick<Config, 'DEVICE' | 'VRAM_TOTAL_MB'>): Promise<DeviceInfo> {
  if (config.DEVICE === 'cpu') return { primary: 'cpu', reason: 'DEVICE=cpu' };
  const cuda = ort.listSupportedBackends().find((b) => b.name === 'cuda');
  if (!cuda?.bundled) {
    const reason = 'the CUDA execution provider is not installed (build the image with ORT_INSTALL=cuda12)';
    if (config.DEVICE === 'cuda') throw new Error(`DEVICE=cuda but ${reason}.`);
    return { primary: 'cpu', reason };
  }
  const total = config.VRAM_TOTAL_MB ?? (await nvidiaSmiTotalMB());
  if (!total) {
    const reason = 'no GPU memory size: set VRAM_TOTAL_MB or make nvidia-smi available';
    if (config.DEVICE === 'cuda') throw new Error(`DEVICE=cuda but ${reason}.`);
    return { primary: 'cpu', reason };
  }
  return { primary: 'cuda:0', vramTotalMB: total, reason: `CUDA provider found, ${total} MB of VRAM` };
}
