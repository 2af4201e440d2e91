export { AIServiceClient, type Detection, type HealthStatus, type ImageResult, type ModelInfo, type Subject } from './client.js';
export { DEFAULT_SUPPORTED_FORMATS, loadAIServiceConfig, type AIServiceConfig, type AIServiceConfigInput } from './config.js';
export { AIServiceError, AIServiceNotConfiguredError } from './errors.js';
export type { RequestOptions } from './http.js';
export { headerSize, sniffFormat, type ImageInput, type ImageValidation } from './image.js';
export type { Job, JobEvent, JobStatus, JobsClient, SubmitOptions } from './jobs.js';
export type * from './generated/options.js';
