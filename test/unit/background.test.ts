// afterResponse: the answer is not held back by the task, the task still completes, and its
// failure is logged instead of surfacing anywhere.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { afterResponse, settled } from '../../supabase/functions/_shared/background.ts';

afterEach(() => vi.restoreAllMocks());

describe('afterResponse', () => {
  it('returns before the task runs and settled() waits for it', async () => {
    const done: string[] = [];
    afterResponse('store', async () => {
      await new Promise((r) => setTimeout(r, 20));
      done.push('stored');
    });
    done.push('answered');
    expect(done).toEqual(['answered']);
    await settled();
    expect(done).toEqual(['answered', 'stored']);
  });

  it('logs a failing task without throwing', async () => {
    const logged: unknown[] = [];
    vi.spyOn(console, 'error').mockImplementation((...args) => void logged.push(args));
    afterResponse('store', async () => {
      throw new Error('database unavailable');
    });
    await settled();
    expect(String(logged[0])).toContain('store failed after the response');
  });
});
