import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Config } from '../config.js';
import { nvidiaSmi, parseMemoryUsed } from './gpu-memory.js';
import { GraphBuilder } from './onnx/graph-builder.js';
import { spawnWorker, workerEntry } from './worker/spawn.js';

export interface DeviceInfo {
  /** 'cuda:0' when the CUDA execution provider is usable, else 'cpu'. */
  primary: 'cpu' | 'cuda:0';
  vramTotalMB?: number;
  reason: string;
}

/** Total memory of GPU 0 from nvidia-smi, in MB; undefined when it is absent or says nothing useful. */
async function nvidiaSmiTotalMB(): Promise<number | undefined> {
  const mb = parseMemoryUsed(await nvidiaSmi(['--query-gpu=memory.total']).catch(() => ''));
  return mb ? mb : undefined;
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
    nvidiaSmi(['--query-gpu=memory.used,memory.total,utilization.gpu'])
      .then((stdout) => {
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

/** What device detection asks of the machine; tests inject their own answers. */
export interface DeviceProbes {
  /** Path of onnxruntime's CUDA provider library beside the binding, if it is installed. */
  providerLibrary(): string | undefined;
  /** Creates a session on the CUDA provider: ok, or the error onnxruntime gave. */
  probeSession(): Promise<{ ok: true } | { ok: false; error: string }>;
  vramTotalMB(): Promise<number | undefined>;
}

/** The binding's folder: the CUDA provider library must sit beside it. */
function bindingDir(): string | undefined {
  try {
    const root = path.dirname(createRequire(import.meta.url).resolve('onnxruntime-node/package.json'));
    return path.join(root, 'bin', 'napi-v6', process.platform, process.arch);
  } catch {
    return undefined;
  }
}

const PROBE_TIMEOUT_MS = 30_000;

/** A one-node graph (Identity) for probe sessions. */
export function probeModel(): Uint8Array {
  const g = new GraphBuilder('cuda-probe', 13);
  g.input('x', 'float32', [1]);
  g.op('Identity', ['x'], {}, 'y');
  g.output('y', 'float32', [1]);
  return g.toBytes();
}

export const defaultProbes: DeviceProbes = {
  providerLibrary() {
    const dir = bindingDir();
    const file = dir && path.join(dir, 'libonnxruntime_providers_cuda.so');
    return file && fs.existsSync(file) ? file : undefined;
  },
  probeSession() {
    // A worker of its own: a provider that cannot load its libraries fails there, not in the server's thread.
    return new Promise((resolve) => {
      const worker = spawnWorker(workerEntry('cuda-probe-worker', import.meta.url), { model: probeModel() });
      const timer = setTimeout(() => {
        void worker.terminate();
        resolve({ ok: false, error: `no answer within ${PROBE_TIMEOUT_MS / 1000} s` });
      }, PROBE_TIMEOUT_MS);
      worker.once('message', (m: { ok: true } | { ok: false; error: string }) => {
        clearTimeout(timer);
        resolve(m);
        void worker.terminate();
      });
      worker.once('error', (err) => {
        clearTimeout(timer);
        resolve({ ok: false, error: err.message });
      });
    });
  },
  vramTotalMB: nvidiaSmiTotalMB,
};

/** A probe failure in the operator's terms: which library or component is missing, and the remedy. */
export function explainProbeFailure(error: string): string {
  const missing = /lib(cudart|cublas|cublasLt|cudnn|cufft|curand)[\w.]*\.so[.\d]*/.exec(error)?.[0];
  if (missing) {
    const what = missing.startsWith('libcudnn') ? 'cuDNN 9' : 'the CUDA 12 runtime';
    return `the CUDA provider cannot load ${missing}: install ${what} (the gpu image's nvidia/cuda base has it)`;
  }
  if (/driver|CUDA_ERROR_NO_DEVICE|no CUDA-capable device|cudaErrorInsufficientDriver/i.test(error)) {
    return `no usable NVIDIA driver or device (${error.split('\n')[0]}): run with --gpus all and the NVIDIA container toolkit`;
  }
  return `a session on the CUDA provider failed: ${error.split('\n')[0]}`;
}

/**
 * DEVICE=cpu forces CPU. auto and cuda need onnxruntime's CUDA provider library beside the binding
 * (ORT_INSTALL=cuda12 at install), a probe session on it that succeeds, and a VRAM size
 * (VRAM_TOTAL_MB or nvidia-smi). onnxruntime-node lists cuda as not bundled on every Linux install,
 * whether the library is there or not, so that list is not asked.
 */
export async function detectDevice(config: Pick<Config, 'DEVICE' | 'VRAM_TOTAL_MB'>, probes: DeviceProbes = defaultProbes): Promise<DeviceInfo> {
  if (config.DEVICE === 'cpu') return { primary: 'cpu', reason: 'DEVICE=cpu' };
  const cpu = (reason: string): DeviceInfo => {
    if (config.DEVICE === 'cuda') throw new Error(`DEVICE=cuda but ${reason}.`);
    return { primary: 'cpu', reason };
  };
  if (!probes.providerLibrary()) return cpu('the CUDA execution provider is not installed (install with ONNXRUNTIME_NODE_INSTALL=cuda12, or build the gpu image)');
  const probe = await probes.probeSession();
  if (!probe.ok) return cpu(explainProbeFailure(probe.error));
  const total = config.VRAM_TOTAL_MB ?? (await probes.vramTotalMB());
  if (!total) return cpu('no GPU memory size: set VRAM_TOTAL_MB or make nvidia-smi available');
  return { primary: 'cuda:0', vramTotalMB: total, reason: `CUDA provider loaded a probe session; ${total} MB of VRAM` };
}
