/** Plain-JS reference layers (CHW, batch 1) the converted graphs are checked against. */
export interface Chw {
  c: number;
  h: number;
  w: number;
  data: Float32Array;
}

export function chw(c: number, h: number, w: number, data: ArrayLike<number>): Chw {
  return { c, h, w, data: Float32Array.from(data) };
}

const at = (t: Chw, c: number, y: number, x: number) => t.data[(c * t.h + y) * t.w + x] as number;

export interface ConvSpec {
  outC: number;
  k: number;
  stride?: number;
  pad?: number;
  dilation?: number;
  weights: number[];
  bias?: number[];
}

export function conv2d(x: Chw, s: ConvSpec): Chw {
  const { outC, k, stride = 1, pad = 0, dilation = 1 } = s;
  const h = Math.floor((x.h + 2 * pad - dilation * (k - 1) - 1) / stride) + 1;
  const w = Math.floor((x.w + 2 * pad - dilation * (k - 1) - 1) / stride) + 1;
  const out = new Float32Array(outC * h * w);
  for (let o = 0; o < outC; o++) {
    for (let y = 0; y < h; y++) {
      for (let xx = 0; xx < w; xx++) {
        let sum = s.bias?.[o] ?? 0;
        for (let c = 0; c < x.c; c++) {
          for (let ky = 0; ky < k; ky++) {
            for (let kx = 0; kx < k; kx++) {
              const iy = y * stride - pad + ky * dilation;
              const ix = xx * stride - pad + kx * dilation;
              if (iy < 0 || ix < 0 || iy >= x.h || ix >= x.w) continue;
              sum += (s.weights[((o * x.c + c) * k + ky) * k + kx] as number) * at(x, c, iy, ix);
            }
          }
        }
        out[(o * h + y) * w + xx] = sum;
      }
    }
  }
  return { c: outC, h, w, data: out };
}

export function map(t: Chw, f: (v: number, c: number) => number): Chw {
  const plane = t.h * t.w;
  return { ...t, data: t.data.map((v, i) => f(v, Math.floor(i / plane))) };
}

export function concat(a: Chw, b: Chw): Chw {
  const data = new Float32Array(a.data.length + b.data.length);
  data.set(a.data);
  data.set(b.data, a.data.length);
  return { c: a.c + b.c, h: a.h, w: a.w, data };
}

export function nearest(t: Chw, s: number): Chw {
  const h = t.h * s;
  const w = t.w * s;
  const out = new Float32Array(t.c * h * w);
  for (let c = 0; c < t.c; c++) {
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) out[(c * h + y) * w + x] = at(t, c, Math.floor(y / s), Math.floor(x / s));
  }
  return { c: t.c, h, w, data: out };
}

/** Half-pixel bilinear with edge clamping, as ncnn Interp type 2 and ONNX Resize linear. */
export function bilinear(t: Chw, s: number): Chw {
  const h = t.h * s;
  const w = t.w * s;
  const out = new Float32Array(t.c * h * w);
  const src = (d: number, n: number) => {
    const f = Math.min(Math.max((d + 0.5) / s - 0.5, 0), n - 1);
    const i0 = Math.floor(f);
    return { i0, i1: Math.min(i0 + 1, n - 1), a: f - i0 };
  };
  for (let c = 0; c < t.c; c++) {
    for (let y = 0; y < h; y++) {
      const sy = src(y, t.h);
      for (let x = 0; x < w; x++) {
        const sx = src(x, t.w);
        const top = at(t, c, sy.i0, sx.i0) * (1 - sx.a) + at(t, c, sy.i0, sx.i1) * sx.a;
        const bottom = at(t, c, sy.i1, sx.i0) * (1 - sx.a) + at(t, c, sy.i1, sx.i1) * sx.a;
        out[(c * h + y) * w + x] = top * (1 - sy.a) + bottom * sy.a;
      }
    }
  }
  return { c: t.c, h, w, data: out };
}

/** PyTorch pixel_shuffle: out[c][y·r+i][x·r+j] = in[c·r²+i·r+j][y][x]. */
export function pixelShuffle(t: Chw, r: number): Chw {
  const c = t.c / (r * r);
  const h = t.h * r;
  const w = t.w * r;
  const out = new Float32Array(t.data.length);
  for (let o = 0; o < c; o++) {
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) out[(o * h + y) * w + x] = at(t, o * r * r + (y % r) * r + (x % r), Math.floor(y / r), Math.floor(x / r));
    }
  }
  return { c, h, w, data: out };
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] as number) - (b[i] as number)));
  return m;
}
