/** @file The query client: public entry points and types. */
export { createQueryClient } from './client.js';
export { readTranscript } from './transcript.js';
export type { TranscriptContents, TranscriptHeader, TranscriptRow } from './transcript.js';
export type { Budget, QueryClient, QueryClientOptions, RetryOptions } from './types.js';
