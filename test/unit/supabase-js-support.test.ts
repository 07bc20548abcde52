// The typed client states the supabase-js versions it supports; the suites run the pinned one,
// which must be inside that range (the e2e client suite exercises it over HTTP).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SUPABASE_JS_SUPPORTED } from '../../src/client/index.ts';
import { ROOT } from '../../src/stack/config.ts';

const parse = (v: string) => v.split('.').map(Number) as [number, number, number];
const cmp = (a: number[], b: number[]) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2];

describe('supported supabase-js', () => {
  it('the installed and pinned supabase-js is within SUPABASE_JS_SUPPORTED', () => {
    const [, min, max] = /^>=(\S+) <(\d+)$/.exec(SUPABASE_JS_SUPPORTED) ?? [];
    expect(min, SUPABASE_JS_SUPPORTED).toBeDefined();
    const installed = JSON.parse(
      readFileSync(path.join(ROOT, 'node_modules/@supabase/supabase-js/package.json'), 'utf8'),
    ).version as string;
    const pinned = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'))
      .dependencies['@supabase/supabase-js'] as string;
    expect(installed).toBe(pinned);
    expect(cmp(parse(installed), parse(min))).toBeGreaterThanOrEqual(0);
    expect(parse(installed)[0]).toBeLessThan(Number(max));
  });
});
