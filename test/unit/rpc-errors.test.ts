// The one place a SQLSTATE becomes an HTTP status: data errors (class 22) are the caller's fault.
import { describe, expect, it } from 'vitest';
import { httpErrorFor } from '../../supabase/functions/_shared/rpc.ts';

describe('database errors → HTTP', () => {
  it('answers text Postgres cannot store with 400 invalid_text, never a 503', () => {
    expect(httpErrorFor('22P05')).toEqual([400, 'invalid_text']);
    expect(httpErrorFor('22021')).toEqual([400, 'invalid_text']);
  });

  it('maps every other data error (class 22) to 400 invalid_request', () => {
    for (const code of ['22023', '22P02', '22003', '22001', '22007', '22012']) {
      expect(httpErrorFor(code)).toEqual([400, 'invalid_request']);
    }
  });

  it('keeps authorization, not-found and check errors, and leaves server-side failures to the 503 path', () => {
    expect(httpErrorFor('42501')).toEqual([403, 'forbidden']);
    expect(httpErrorFor('P0002')).toEqual([404, 'not_found']);
    expect(httpErrorFor('23514')).toEqual([400, 'invalid_request']);
    for (const code of [undefined, '', '08006', '57014', '53300', 'XX000', 'P0001']) {
      expect(httpErrorFor(code)).toBeNull();
    }
  });
});
