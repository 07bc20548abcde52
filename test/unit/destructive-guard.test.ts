// Destructive suites refuse a remote project unless explicitly allowed.
import { describe, expect, it } from 'vitest';
import { destructiveRefusal } from '../helpers/destructive.ts';

const what = 'the nightly cleanup deletes every expired entry';

describe('destructive suites against a remote project', () => {
  it('run against the local stack', () => {
    expect(
      destructiveRefusal(
        ['http://127.0.0.1:54321', 'postgresql://postgres:postgres@127.0.0.1:54322/postgres'],
        {},
        what,
      ),
    ).toBeNull();
    expect(destructiveRefusal(['http://localhost:54321'], {}, what)).toBeNull();
  });

  it('refuse a remote SUPABASE_URL or database, naming the host and the variable that allows it', () => {
    const refusal = destructiveRefusal(
      ['https://abc.supabase.co', 'postgresql://postgres:pw@127.0.0.1:54322/postgres'],
      {},
      what,
    );
    expect(refusal).toContain('abc.supabase.co');
    expect(refusal).toContain('STACK_TESTS_ALLOW_DESTRUCTIVE=1');
    expect(
      destructiveRefusal(
        ['http://127.0.0.1:54321', 'postgresql://postgres:pw@db.abc.supabase.co:5432/postgres'],
        {},
        what,
      ),
    ).toContain('db.abc.supabase.co');
  });

  it('run against a remote project when STACK_TESTS_ALLOW_DESTRUCTIVE=1', () => {
    expect(destructiveRefusal(['https://abc.supabase.co'], { STACK_TESTS_ALLOW_DESTRUCTIVE: '1' }, what)).toBeNull();
    expect(destructiveRefusal(['https://abc.supabase.co'], { STACK_TESTS_ALLOW_DESTRUCTIVE: 'yes' }, what)).not
      .toBeNull();
  });
});
