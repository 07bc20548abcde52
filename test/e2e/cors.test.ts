// Browsers send a preflight before calling a function from an app's origin: every function
// answers it the same way, before any credential check, with Supabase's CORS headers and ours.
import { describe, expect, it } from 'vitest';
import { FUNCTIONS_URL } from '../helpers/stack.ts';

describe.each(['ai-chat', 'ai-suggest', 'ai-metrics'])('%s CORS preflight', (fn) => {
  it('answers OPTIONS without credentials, allowing what supabase-js and our clients send', async () => {
    const res = await fetch(`${FUNCTIONS_URL}/${fn}`, {
      method: 'OPTIONS',
      headers: {
        origin: 'https://app.example',
        'access-control-request-method': fn === 'ai-metrics' ? 'GET' : 'POST',
        'access-control-request-headers':
          'authorization, apikey, content-type, x-client-info, cache-control, x-cache-ttl',
      },
    });
    expect(res.status).toBe(200);
    await res.text();
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    const allowed = (res.headers.get('access-control-allow-headers') ?? '').split(',').map((h) => h.trim());
    expect(allowed).toEqual(
      expect.arrayContaining([
        'authorization',
        'apikey',
        'content-type',
        'x-client-info',
        'cache-control',
        'x-cache-ttl',
      ]),
    );
    expect(res.headers.get('access-control-allow-methods')).toMatch(fn === 'ai-metrics' ? /GET/ : /POST/);
  });
});
