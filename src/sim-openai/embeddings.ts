import { estimateTokens, fnv1a, mulberry32 } from './determinism.ts';
import type { OpenAIErrorFields } from './http-io.ts';

export const DEFAULT_EMBEDDING_DIMS = 1536;
const LARGE_MODEL_DIMS = 3072;
const MAX_DIMS = 8192;
/** Weight of the whole-text component relative to the bag of words (see embedText). */
const WHOLE_TEXT_WEIGHT = 0.25;

export interface EmbeddingRequest {
  model: string;
  input: string | string[] | number[] | number[][];
  dimensions?: number;
  encoding_format?: 'float' | 'base64';
}

export function validateEmbeddingRequest(body: unknown): OpenAIErrorFields | null {
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    return invalid('The request body must be a JSON object.', null);
  }
  const req = body as Record<string, unknown>;
  if (typeof req.model !== 'string' || req.model === '') return invalid('you must provide a model parameter', 'model');
  if (!isValidInput(req.input)) {
    return invalid("'input' must be a string, an array of strings, or token arrays.", 'input');
  }
  const dims = req.dimensions;
  if (dims !== undefined && (typeof dims !== 'number' || !Number.isInteger(dims) || dims < 1 || dims > MAX_DIMS)) {
    return invalid(`'dimensions' must be an integer between 1 and ${MAX_DIMS}.`, 'dimensions');
  }
  if (req.encoding_format !== undefined && req.encoding_format !== 'float' && req.encoding_format !== 'base64') {
    return invalid("'encoding_format' must be 'float' or 'base64'.", 'encoding_format');
  }
  return null;
}

function isValidInput(input: unknown): boolean {
  if (typeof input === 'string') return true;
  if (!Array.isArray(input) || input.length === 0) return false;
  return (
    input.every((x) => typeof x === 'string') ||
    input.every((x) => typeof x === 'number') ||
    input.every((x) => Array.isArray(x) && x.every((t) => typeof t === 'number'))
  );
}

function invalid(message: string, param: string | null): OpenAIErrorFields {
  return { message, type: 'invalid_request_error', param, code: null };
}

/** Normalises the four accepted `input` shapes into one text per embedding (token ids become words). */
export function embeddingTexts(input: EmbeddingRequest['input']): string[] {
  if (typeof input === 'string') return [input];
  if (input.length > 0 && typeof input[0] === 'number') return [tokensToText(input as number[])];
  return (input as (string | number[])[]).map((x) => (typeof x === 'string' ? x : tokensToText(x)));
}

function tokensToText(tokens: number[]): string {
  return tokens.map((t) => `tok${t}`).join(' ');
}

export function defaultDimensions(model: string): number {
  return model.includes('large') ? LARGE_MODEL_DIMS : DEFAULT_EMBEDDING_DIMS;
}

/**
 * Feature-hashing embedding: the sum of one pseudo-random direction per lower-cased word plus a
 * smaller direction for the exact text, normalised to unit length. Identical texts give identical
 * vectors, and cosine similarity grows with shared words (same words in another order or case
 * ≈ 0.94; otherwise ≈ 0.94 × the shared fraction), which makes semantic-cache behaviour testable.
 */
export function embedText(text: string, dims: number): Float32Array {
  const acc = new Float64Array(dims);
  const words = text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
  for (const word of words) addDirection(acc, `w:${word}`, 1);
  addDirection(acc, `t:${text}`, WHOLE_TEXT_WEIGHT * Math.sqrt(Math.max(1, words.length)));
  let norm = 0;
  for (let i = 0; i < dims; i++) norm += acc[i]! * acc[i]!;
  norm = Math.sqrt(norm) || 1;
  const out = new Float32Array(dims);
  for (let i = 0; i < dims; i++) out[i] = acc[i]! / norm;
  return out;
}

/** Each direction is approximately unit length (uniform in [-√3, √3] has unit variance), so words weigh equally. */
function addDirection(acc: Float64Array, key: string, weight: number): void {
  const next = mulberry32(fnv1a(key));
  const scale = (weight * Math.sqrt(3)) / Math.sqrt(acc.length);
  for (let i = 0; i < acc.length; i++) acc[i]! += (next() * 2 - 1) * scale;
}

export function embeddingResponse(req: EmbeddingRequest) {
  const dims = req.dimensions ?? defaultDimensions(req.model);
  const texts = embeddingTexts(req.input);
  let promptTokens = 0;
  const data = texts.map((text, index) => {
    promptTokens += estimateTokens(text);
    const vector = embedText(text, dims);
    const embedding = req.encoding_format === 'base64'
      ? Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength).toString('base64')
      : Array.from(vector);
    return { object: 'embedding' as const, index, embedding };
  });
  return {
    object: 'list' as const,
    data,
    model: req.model,
    usage: { prompt_tokens: promptTokens, total_tokens: promptTokens },
  };
}
