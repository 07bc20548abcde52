// 10 MB bodies through the gateway, with and without Content-Length: the caller always gets
// the function's own JSON answer (413 for functions that take a body), never a reset.
import { describe, expect, it } from 'vitest';
import { createUser, FUNCTIONS_URL } from '../helpers/stack.ts';
import { stackEnv } from '../../src/stack/config.ts';

const PUBLISHABLE_KEY = process.env.SUPABASE_PUBLISHABLE_KEY ?? stackEnv().SUPABASE_PUBLISHABLE_KEY;
const TEN_MB = 10 * 1024 * 1024;
const payload = new Uint8Array(TEN_MB).fill(0x61);

function body(chunked: boolean): BodyInit {
  if (!chunked) return payload;
  // A stream has no known length: fetch sends it with Transfer-Encoding: chunked.
  return new ReadableStream<Uint8Array>({
    start(c) {
      for (let at = 0; at < payload.length; at += 64 * 1024) c.enqueue(payload.subarray(at, at + 64 * 1024));
      c.close();
    },
  });
}

async function upload(fn: string, token: string, chunked: boolean) {
  const res = await fetch(`${FUNCTIONS_URL}/${fn}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, apikey: PUBLISHABLE_KEY, 'content-type': 'application/json' },
    body: body(chunked),
    duplex: 'half',
  } as RequestInit);
  return { status: res.status, json: await res.json() };
}

describe('10 MB uploads through the gateway', () => {
  for (const chunked of [false, true]) {
    const how = chunked ? 'chunked' : 'with Content-Length';
    it(`ai-chat answers 413 payload_too_large (${how})`, async () => {
      const user = await createUser('upload');
      for (let i = 0; i < 2; i++) {
        const r = await upload('ai-chat', user.jwt, chunked);
        expect(r).toMatchObject({ status: 413, json: { error: { code: 'payload_too_large' } } });
      }
    });

    it(`ai-suggest answers 413 payload_too_large (${how})`, async () => {
      for (let i = 0; i < 2; i++) {
        const r = await upload('ai-suggest', PUBLISHABLE_KEY, chunked);
        expect(r).toMatchObject({ status: 413, json: { success: false, error: { code: 'payload_too_large' } } });
      }
    });

    it(`ai-metrics (GET only) answers its own 405 (${how})`, async () => {
      const r = await upload('ai-metrics', 'not-the-token', chunked);
      expect(r).toMatchObject({ status: 405, json: { error: { code: 'method_not_allowed' } } });
    });
  }
});
