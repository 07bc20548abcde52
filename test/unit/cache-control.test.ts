import { describe, expect, it } from 'vitest';
import { parseCacheControls } from '../../supabase/functions/_shared/cache-control.ts';
import { HttpError } from '../../supabase/functions/_shared/errors.ts';

const parse = (h: Record<string, string>) => parseCacheControls(new Headers(h));

describe('Cache-Control request directives', () => {
  it('defaults to a normal cached request', () => {
    expect(parse({})).toEqual({ noCache: false, noStore: false, maxAge: null, onlyIfCached: false, ttlSeconds: null });
  });

  it('reads each directive, case-insensitively and combined', () => {
    expect(parse({ 'cache-control': 'no-cache' }).noCache).toBe(true);
    expect(parse({ 'cache-control': 'No-Store' }).noStore).toBe(true);
    expect(parse({ 'cache-control': 'only-if-cached, max-age=60' })).toMatchObject({ onlyIfCached: true, maxAge: 60 });
    expect(parse({ 'cache-control': 'max-age=0' }).maxAge).toBe(0);
    expect(parse({ 'x-cache-ttl': '3600' }).ttlSeconds).toBe(3600);
  });

  it('refuses malformed values with a 400 instead of guessing', () => {
    const bad: Record<string, string>[] = [{ 'cache-control': 'max-age=-1' }, { 'cache-control': 'max-age=abc' }, {
      'x-cache-ttl': '0',
    }, { 'x-cache-ttl': '1.5' }];
    for (const h of bad) {
      try {
        parse(h);
        expect.unreachable(`accepted ${JSON.stringify(h)}`);
      } catch (e) {
        expect(e).toBeInstanceOf(HttpError);
        expect((e as HttpError).status).toBe(400);
      }
    }
  });
});
