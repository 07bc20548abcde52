// A request's time budget. Supabase cuts an Edge Function request at 150 s; every wait a
// function does on the model (all attempts and retries) or on another caller's lease must
// end well before that, so the caller gets a clear answer (the answer, a STALE one, or a
// 5xx) instead of the platform's cut. AI_MODEL_DEADLINE_MS (default 120 s) is that budget,
// counted from the moment the request arrived.
import { config } from './config.ts';

export class Deadline {
  readonly end: number;
  /** Aborts when the budget is spent: given to the model call so nothing outlives it. */
  readonly signal: AbortSignal;

  constructor(budgetMs: number = config().modelDeadlineMs) {
    this.end = Date.now() + budgetMs;
    this.signal = AbortSignal.timeout(Math.max(1, budgetMs));
  }

  remaining(): number {
    return Math.max(0, this.end - Date.now());
  }

  expired(): boolean {
    return this.remaining() === 0;
  }
}
