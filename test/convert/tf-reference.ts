/**
 * Plain-JS reference of the TensorFlow ops the TF.js importer converts, written from TF's own
 * definitions (tensorflow/core/kernels: conv_ops, image_resizer_state, pooling, topk) in NHWC, so
 * converted graphs are checked against TF's semantics rather than against ONNX's.
 */
export interface Tensor {
  shape: number[];
  data: Float32Array | Int32Array;
}

export const tensor = (shape: number[], data: ArrayLike<number>, int = false): Tensor => ({
  shape: [...shape],
  data: int ? Int32Array.from(data) : Float32Array.from(data),
});

const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);
const isInt = (t: Tensor) => t.data instanceof Int32Array;
const like = (t: Tensor, shape: number[], data: ArrayLike<number>) => tensor(shape, data, isInt(t));

function strides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) s[i] = s[i + 1]! * shape[i + 1]!;
  return s;
}

/** NumPy broadcasting of a binary op (fast paths for equal shapes and a trailing-suffix operand). */
export function binary(a: Tensor, b: Tensor, f: (x: number, y: number) => number, int = isInt(a)): Tensor {
  const rank = Math.max(a.shape.length, b.shape.length);
  const pa = [...Array(rank - a.shape.length).fill(1), ...a.shape];
  const pb = [...Array(rank - b.shape.length).fill(1), ...b.shape];
  const shape = pa.map((d, i) => Math.max(d, pb[i]!));
  const n = size(shape);
  const out = int ? new Int32Array(n) : new Float32Array(n);
  const suffix = (p: number[], full: number[]) => {
    const first = p.findIndex((d) => d !== 1);
    return first === -1 || p.slice(first).every((d, i) => d === full[first + i]);
  };
  const [na, nb] = [a.data.length, b.data.length];
  if (suffix(pa, shape) && suffix(pb, shape)) {
    for (let i = 0; i < n; i++) out[i] = f(a.data[i % na]!, b.data[i % nb]!);
    return { shape, data: out };
  }
  const [sa, sb, so] = [strides(pa), strides(pb), strides(shape)];
  for (let i = 0; i < n; i++) {
    let ia = 0;
    let ib = 0;
    for (let k = 0; k < rank; k++) {
      const idx = Math.floor(i / so[k]!) % shape[k]!;
      if (pa[k] !== 1) ia += idx * sa[k]!;
      if (pb[k] !== 1) ib += idx * sb[k]!;
    }
    out[i] = f(a.data[ia]!, b.data[ib]!);
  }
  return { shape, data: out };
}

export const map = (t: Tensor, f: (v: number) => number): Tensor => ({ shape: [...t.shape], data: t.data.map(f) });

/** TF's SAME: output ceil(in / stride); the total padding splits with the odd pixel after. */
export function samePadding(inSize: number, k: number, stride: number, dilation = 1): { out: number; before: number } {
  const eff = (k - 1) * dilation + 1;
  const out = Math.ceil(inSize / stride);
  const total = Math.max((out - 1) * stride + eff - inSize, 0);
  return { out, before: Math.floor(total / 2) };
}

function validPadding(inSize: number, k: number, stride: number, dilation = 1): { out: number; before: number } {
  return { out: Math.ceil((inSize - (k - 1) * dilation) / stride), before: 0 };
}

export interface ConvOptions {
  strides?: [number, number];
  dilations?: [number, number];
  padding: 'SAME' | 'VALID';
}

function geometry(x: Tensor, kh: number, kw: number, o: ConvOptions) {
  const [, h, w] = x.shape as [number, number, number, number];
  const [sh, sw] = o.strides ?? [1, 1];
  const [dh, dw] = o.dilations ?? [1, 1];
  const pad = o.padding === 'SAME' ? samePadding : validPadding;
  const ph = pad(h, kh, sh, dh);
  const pw = pad(w, kw, sw, dw);
  return { sh, sw, dh, dw, oh: ph.out, ow: pw.out, top: ph.before, left: pw.before };
}

/** Conv2D: x [N,H,W,Cin], filter [kh,kw,Cin,Cout]. */
export function conv2d(x: Tensor, f: Tensor, o: ConvOptions): Tensor {
  const [n, h, w, cin] = x.shape as [number, number, number, number];
  const [kh, kw, , cout] = f.shape as [number, number, number, number];
  const g = geometry(x, kh, kw, o);
  const out = new Float32Array(n * g.oh * g.ow * cout);
  for (let b = 0; b < n; b++) for (let oy = 0; oy < g.oh; oy++) for (let ox = 0; ox < g.ow; ox++) {
    const base = ((b * g.oh + oy) * g.ow + ox) * cout;
    for (let ky = 0; ky < kh; ky++) {
      const iy = oy * g.sh - g.top + ky * g.dh;
      if (iy < 0 || iy >= h) continue;
      for (let kx = 0; kx < kw; kx++) {
        const ix = ox * g.sw - g.left + kx * g.dw;
        if (ix < 0 || ix >= w) continue;
        const xi = ((b * h + iy) * w + ix) * cin;
        const fi = (ky * kw + kx) * cin * cout;
        for (let c = 0; c < cin; c++) {
          const v = x.data[xi + c]!;
          if (v === 0) continue;
          const row = fi + c * cout;
          for (let co = 0; co < cout; co++) out[base + co]! += v * f.data[row + co]!;
        }
      }
    }
  }
  return { shape: [n, g.oh, g.ow, cout], data: out };
}

/** DepthwiseConv2dNative: filter [kh,kw,C,M]; output channel c·M + m. */
export function depthwiseConv2d(x: Tensor, f: Tensor, o: ConvOptions): Tensor {
  const [n, h, w, c] = x.shape as [number, number, number, number];
  const [kh, kw, , m] = f.shape as [number, number, number, number];
  const g = geometry(x, kh, kw, o);
  const out = new Float32Array(n * g.oh * g.ow * c * m);
  for (let b = 0; b < n; b++) for (let oy = 0; oy < g.oh; oy++) for (let ox = 0; ox < g.ow; ox++) {
    const base = ((b * g.oh + oy) * g.ow + ox) * c * m;
    for (let ky = 0; ky < kh; ky++) {
      const iy = oy * g.sh - g.top + ky * g.dh;
      if (iy < 0 || iy >= h) continue;
      for (let kx = 0; kx < kw; kx++) {
        const ix = ox * g.sw - g.left + kx * g.dw;
        if (ix < 0 || ix >= w) continue;
        const xi = ((b * h + iy) * w + ix) * c;
        for (let ch = 0; ch < c; ch++) for (let j = 0; j < m; j++) out[base + ch * m + j]! += x.data[xi + ch]! * f.data[((ky * kw + kx) * c + ch) * m + j]!;
      }
    }
  }
  return { shape: [n, g.oh, g.ow, c * m], data: out };
}

/**
 * Conv2DBackpropInput: the gradient of a Conv2D over an input of `outShape` [N,H,W,C] with
 * respect to that input, given dy [N,h,w,Cdy] and filter [kh,kw,C,Cdy]: each dy value is spread
 * back over the window the forward conv read it from.
 */
export function conv2dTranspose(dy: Tensor, f: Tensor, outShape: number[], o: ConvOptions): Tensor {
  const [n, H, W, c] = outShape as [number, number, number, number];
  const [, h, w, cdy] = dy.shape as [number, number, number, number];
  const [kh, kw] = f.shape as [number, number, number, number];
  const g = geometry(tensor([n, H, W, c], []), kh, kw, o);
  const out = new Float32Array(n * H * W * c);
  for (let b = 0; b < n; b++) for (let oy = 0; oy < h; oy++) for (let ox = 0; ox < w; ox++) for (let ky = 0; ky < kh; ky++) for (let kx = 0; kx < kw; kx++) {
    const iy = oy * g.sh - g.top + ky * g.dh;
    const ix = ox * g.sw - g.left + kx * g.dw;
    if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
    for (let ci = 0; ci < c; ci++) for (let co = 0; co < cdy; co++) {
      out[((b * H + iy) * W + ix) * c + ci]! += dy.data[((b * h + oy) * w + ox) * cdy + co]! * f.data[((ky * kw + kx) * c + ci) * cdy + co]!;
    }
  }
  return { shape: [n, H, W, c], data: out };
}

/** MaxPool / AvgPool: padding never counts (max over real pixels, average over real pixels only). */
export function pool(x: Tensor, k: [number, number], o: ConvOptions, kind: 'max' | 'avg'): Tensor {
  const [n, h, w, c] = x.shape as [number, number, number, number];
  const g = geometry(x, k[0], k[1], o);
  const out = new Float32Array(n * g.oh * g.ow * c);
  for (let b = 0; b < n; b++) for (let oy = 0; oy < g.oh; oy++) for (let ox = 0; ox < g.ow; ox++) for (let ch = 0; ch < c; ch++) {
    let acc = kind === 'max' ? -Infinity : 0;
    let count = 0;
    for (let ky = 0; ky < k[0]; ky++) for (let kx = 0; kx < k[1]; kx++) {
      const iy = oy * g.sh - g.top + ky;
      const ix = ox * g.sw - g.left + kx;
      if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
      const v = x.data[((b * h + iy) * w + ix) * c + ch]!;
      acc = kind === 'max' ? Math.max(acc, v) : acc + v;
      count++;
    }
    out[((b * g.oh + oy) * g.ow + ox) * c + ch] = kind === 'max' ? acc : acc / count;
  }
  return { shape: [n, g.oh, g.ow, c], data: out };
}

/**
 * ResizeBilinear as image_resizer_state.h and resize_bilinear_op.cc compute it: scale is
 * (in−1)/(out−1) with align_corners, else in/out; the source coordinate is (i + ½)·scale − ½
 * with half_pixel_centers, else i·scale; lower = max(floor, 0), upper = min(ceil, in−1).
 */
export function resizeBilinear(x: Tensor, outH: number, outW: number, alignCorners: boolean, halfPixel: boolean): Tensor {
  const [n, h, w, c] = x.shape as [number, number, number, number];
  const scale = (inS: number, outS: number) => (alignCorners && outS > 1 ? (inS - 1) / (outS - 1) : inS / outS);
  const weights = (outS: number, inS: number) => Array.from({ length: outS }, (_, i) => {
    const s = scale(inS, outS);
    const src = halfPixel ? (i + 0.5) * s - 0.5 : i * s;
    const f = Math.floor(src);
    return { lo: Math.max(f, 0), hi: Math.min(Math.ceil(src), inS - 1), t: src - f };
  });
  const ys = weights(outH, h);
  const xs = weights(outW, w);
  const out = new Float32Array(n * outH * outW * c);
  const at = (b: number, y: number, xx: number, ch: number) => x.data[((b * h + y) * w + xx) * c + ch]!;
  for (let b = 0; b < n; b++) for (let y = 0; y < outH; y++) for (let xx = 0; xx < outW; xx++) for (let ch = 0; ch < c; ch++) {
    const Y = ys[y]!;
    const X = xs[xx]!;
    const top = at(b, Y.lo, X.lo, ch) + (at(b, Y.lo, X.hi, ch) - at(b, Y.lo, X.lo, ch)) * X.t;
    const bottom = at(b, Y.hi, X.lo, ch) + (at(b, Y.hi, X.hi, ch) - at(b, Y.hi, X.lo, ch)) * X.t;
    out[((b * outH + y) * outW + xx) * c + ch] = top + (bottom - top) * Y.t;
  }
  return { shape: [n, outH, outW, c], data: out };
}

function normAxis(axis: number, rank: number): number {
  return axis < 0 ? axis + rank : axis;
}

/** Sum- or max-reduction over `axes`, keeping reduced dims as 1 when `keep`. */
export function reduce(x: Tensor, axes: number[], keep: boolean, kind: 'mean' | 'max' | 'sum'): Tensor {
  const ax = new Set(axes.map((a) => normAxis(a, x.shape.length)));
  const kept = x.shape.map((d, i) => (ax.has(i) ? 1 : d));
  const sx = strides(x.shape);
  const sk = strides(kept);
  const acc = new Float64Array(size(kept)).fill(kind === 'max' ? -Infinity : 0);
  for (let i = 0; i < x.data.length; i++) {
    let o = 0;
    for (let k = 0; k < x.shape.length; k++) if (!ax.has(k)) o += (Math.floor(i / sx[k]!) % x.shape[k]!) * sk[k]!;
    acc[o] = kind === 'max' ? Math.max(acc[o]!, x.data[i]!) : acc[o]! + x.data[i]!;
  }
  const count = x.data.length / acc.length;
  const data = kind === 'mean' ? Array.from(acc, (v) => v / count) : Array.from(acc);
  return like(x, keep ? kept : x.shape.filter((_, i) => !ax.has(i)), data);
}

export function transpose(x: Tensor, perm: number[]): Tensor {
  const shape = perm.map((p) => x.shape[p]!);
  const sx = strides(x.shape);
  const so = strides(shape);
  const out = new Array<number>(x.data.length);
  for (let i = 0; i < out.length; i++) {
    let src = 0;
    for (let k = 0; k < shape.length; k++) src += (Math.floor(i / so[k]!) % shape[k]!) * sx[perm[k]!]!;
    out[i] = x.data[src]!;
  }
  return like(x, shape, out);
}

export function concat(xs: Tensor[], axis: number): Tensor {
  const a = normAxis(axis, xs[0]!.shape.length);
  const outer = size(xs[0]!.shape.slice(0, a));
  const shape = [...xs[0]!.shape];
  shape[a] = xs.reduce((s, t) => s + t.shape[a]!, 0);
  const out: number[] = [];
  for (let o = 0; o < outer; o++) for (const t of xs) {
    const block = size(t.shape.slice(a));
    for (let i = 0; i < block; i++) out.push(t.data[o * block + i]!);
  }
  return like(xs[0]!, shape, out);
}

/** Slices along one axis [start, start+len). */
export function sliceAxis(x: Tensor, axis: number, start: number, len: number): Tensor {
  const a = normAxis(axis, x.shape.length);
  const outer = size(x.shape.slice(0, a));
  const inner = size(x.shape.slice(a + 1));
  const out: number[] = [];
  for (let o = 0; o < outer; o++) for (let i = start; i < start + len; i++) for (let j = 0; j < inner; j++) out.push(x.data[(o * x.shape[a]! + i) * inner + j]!);
  const shape = [...x.shape];
  shape[a] = len;
  return like(x, shape, out);
}

export function pad(x: Tensor, paddings: number[], value = 0): Tensor {
  const shape = x.shape.map((d, i) => d + paddings[2 * i]! + paddings[2 * i + 1]!);
  const out = new Array<number>(size(shape)).fill(value);
  const sx = strides(x.shape);
  const so = strides(shape);
  for (let i = 0; i < x.data.length; i++) {
    let o = 0;
    for (let k = 0; k < shape.length; k++) o += ((Math.floor(i / sx[k]!) % x.shape[k]!) + paddings[2 * k]!) * so[k]!;
    out[o] = x.data[i]!;
  }
  return like(x, shape, out);
}

/** StridedSlice with begin/end/shrink masks over the leading axes (TF clamps out-of-range bounds). */
export function stridedSlice(x: Tensor, begin: number[], end: number[], step: number[], masks: { begin?: number; end?: number; shrink?: number }): Tensor {
  const ranges = x.shape.map((d, k) => {
    if (k >= begin.length) return Array.from({ length: d }, (_, i) => i);
    const s = step[k]!;
    const norm = (v: number) => (v < 0 ? v + d : v);
    if ((masks.shrink ?? 0) & (1 << k)) return [norm(begin[k]!)];
    let b = (masks.begin ?? 0) & (1 << k) ? (s > 0 ? 0 : d - 1) : norm(begin[k]!);
    let e = (masks.end ?? 0) & (1 << k) ? (s > 0 ? d : -1) : norm(end[k]!);
    b = s > 0 ? Math.min(Math.max(b, 0), d) : Math.min(Math.max(b, -1), d - 1);
    e = s > 0 ? Math.min(Math.max(e, 0), d) : Math.min(Math.max(e, -1), d - 1);
    const idx: number[] = [];
    for (let i = b; s > 0 ? i < e : i > e; i += s) idx.push(i);
    return idx;
  });
  const sx = strides(x.shape);
  const out: number[] = [];
  const walk = (k: number, offset: number) => {
    if (k === ranges.length) return void out.push(x.data[offset]!);
    for (const i of ranges[k]!) walk(k + 1, offset + i * sx[k]!);
  };
  walk(0, 0);
  const shape = ranges.map((r) => r.length).filter((_, k) => !((masks.shrink ?? 0) & (1 << k)));
  return like(x, shape, out);
}

export function gather(params: Tensor, indices: Tensor, axis: number): Tensor {
  const a = normAxis(axis, params.shape.length);
  const outer = size(params.shape.slice(0, a));
  const inner = size(params.shape.slice(a + 1));
  const out: number[] = [];
  for (let o = 0; o < outer; o++) for (const idx of indices.data) for (let j = 0; j < inner; j++) out.push(params.data[(o * params.shape[a]! + idx) * inner + j]!);
  return like(params, [...params.shape.slice(0, a), ...indices.shape, ...params.shape.slice(a + 1)], out);
}

/** TopKV2 over the last axis: largest first, equal values in index order. */
export function topK(x: Tensor, k: number): { values: Tensor; indices: Tensor } {
  const last = x.shape.at(-1)!;
  const rows = x.data.length / last;
  const values: number[] = [];
  const indices: number[] = [];
  for (let r = 0; r < rows; r++) {
    const order = Array.from({ length: last }, (_, i) => i).sort((a, b) => x.data[r * last + b]! - x.data[r * last + a]! || a - b);
    for (const i of order.slice(0, k)) {
      values.push(x.data[r * last + i]!);
      indices.push(i);
    }
  }
  const shape = [...x.shape.slice(0, -1), k];
  return { values: like(x, shape, values), indices: tensor(shape, indices, true) };
}

export function matMul(a: Tensor, b: Tensor, ta = false, tb = false): Tensor {
  const A = ta ? transpose(a, [1, 0]) : a;
  const B = tb ? transpose(b, [1, 0]) : b;
  const [m, k] = A.shape as [number, number];
  const n = B.shape[1]!;
  const out = new Float32Array(m * n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
    let s = 0;
    for (let q = 0; q < k; q++) s += A.data[i * k + q]! * B.data[q * n + j]!;
    out[i * n + j] = s;
  }
  return { shape: [m, n], data: out };
}

/** max |a − b| over max |b|: the deviation relative to the output's own scale. */
export function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  return diff / (scale || 1);
}
