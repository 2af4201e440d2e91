/** onnxruntime's CUDA and CPU allocators word an allocation failure in these ways. */
const OOM_PATTERN = /out of memory|\bOOM\b|cudaErrorMemoryAllocation|CUDNN_STATUS_ALLOC_FAILED|Failed to allocate memory|bad_alloc/i;

export function isOutOfMemory(err: unknown): boolean {
  if (typeof err === 'object' && err !== null && (err as { oom?: unknown }).oom === true) return true;
  return OOM_PATTERN.test(err instanceof Error ? err.message : String(err));
}
