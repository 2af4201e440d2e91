import { halfToFloat } from './half.js';
import { NcnnFormatError } from './ncnn-param.js';

/** Tag before a weight blob stored as IEEE half floats, padded to a 4-byte boundary. */
export const TAG_FP16 = 0x01306b47;
/** Tag before a weight blob stored as raw 32-bit floats. */
export const TAG_FP32 = 0;

/**
 * Reads an ncnn `.bin` in layer order. Weight blobs carry a 4-byte tag (fp16 or fp32); biases and
 * PReLU slopes are raw fp32. Data is little-endian, as ncnn writes it.
 */
export class NcnnWeights {
  private offset = 0;

  constructor(private readonly bin: Uint8Array) {}

  private take(bytes: number, what: string): Uint8Array {
    if (this.offset + bytes > this.bin.byteLength) {
      throw new NcnnFormatError(
        `the .bin ends at byte ${this.bin.byteLength} but ${what} needs ${bytes} bytes from byte ${this.offset}; the .param and .bin do not belong together`,
      );
    }
    // Uint8Array.prototype.slice copies even for a Node Buffer, whose own slice() is a view.
    const slice = Uint8Array.prototype.slice.call(this.bin, this.offset, this.offset + bytes);
    this.offset += bytes;
    return slice;
  }

  /** `count` values preceded by a storage tag. */
  tagged(count: number, what: string): Float32Array {
    const tagAt = this.offset;
    const tag = new DataView(this.take(4, what).buffer).getUint32(0, true);
    if (tag === TAG_FP32) return this.raw(count, what);
    if (tag !== TAG_FP16) {
      throw new NcnnFormatError(
        `${what}: unsupported weight storage tag 0x${tag.toString(16).padStart(8, '0')} at byte ${tagAt} (supported: 0x01306b47 fp16, 0x00000000 fp32)`,
      );
    }
    const bytes = this.take(Math.ceil((count * 2) / 4) * 4, what);
    return halfToFloat(new Uint16Array(bytes.buffer, 0, count));
  }

  /** `count` raw fp32 values, no tag. */
  raw(count: number, what: string): Float32Array {
    return new Float32Array(this.take(count * 4, what).buffer);
  }

  /** Every byte must belong to some layer, or the files do not match. */
  assertConsumed(): void {
    const left = this.bin.byteLength - this.offset;
    if (left !== 0) {
      throw new NcnnFormatError(
        `${left} bytes of the .bin were not consumed by any layer (read ${this.offset} of ${this.bin.byteLength}); the .param and .bin do not belong together`,
      );
    }
  }
}
