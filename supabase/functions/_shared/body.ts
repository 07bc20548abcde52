// Reads a JSON body under a size cap and validates it with a zod schema: 413 / 400 otherwise.
import type { z } from 'zod';
import { HttpError } from './errors.ts';

export async function readJson<S extends z.ZodType>(req: Request, schema: S, maxBytes: number): Promise<z.infer<S>> {
  if (req.method !== 'POST') {
    throw new HttpError(405, 'method_not_allowed', 'Use POST with a JSON body', { allow: 'POST, OPTIONS' });
  }
  const declared = Number(req.headers.get('content-length') ?? NaN);
  if (declared > maxBytes) {
    if (req.body) await discard(req.body.getReader());
    throw new HttpError(413, 'payload_too_large', `Body exceeds ${maxBytes} bytes`);
  }
  const text = await readCapped(req, maxBytes);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new HttpError(400, 'invalid_json', 'Body is not valid JSON');
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue.path.length ? issue.path.join('.') : 'body';
    throw new HttpError(400, 'invalid_request', `${where}: ${issue.message}`);
  }
  return parsed.data;
}

async function readCapped(req: Request, maxBytes: number): Promise<string> {
  if (!req.body) return '';
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await discard(reader);
      throw new HttpError(413, 'payload_too_large', `Body exceeds ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  const all = new Uint8Array(size);
  let offset = 0;
  for (const c of chunks) {
    all.set(c, offset);
    offset += c.byteLength;
  }
  return new TextDecoder().decode(all);
}

/** Past this, an oversized upload is dropped (connection closed) rather than read to its end. */
const DISCARD_LIMIT_BYTES = 64 * 1024 * 1024;

/**
 * Reads the rest of a refused body without keeping it: a server that answers while the upload
 * is still arriving closes the connection, and the caller sees a reset instead of the 413.
 */
async function discard(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<void> {
  let seen = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      seen += value.byteLength;
      if (seen > DISCARD_LIMIT_BYTES) return void (await reader.cancel());
    }
  } catch {
    // The caller went away.
  }
}
