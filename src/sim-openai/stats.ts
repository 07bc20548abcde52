export interface RequestRecord {
  kind: 'chat' | 'embeddings';
  model: string;
  /** Chat: last user message. Embeddings: all inputs joined by newlines. Used for `?match=` filtering. */
  text: string;
  stream: boolean;
  at: string;
  ok: boolean;
  faulted: boolean;
}

/** Per-request history kept for `?match=` queries; beyond this, match counts only cover the newest requests. */
const HISTORY_LIMIT = 100_000;
const RECENT_LIMIT = 100;

export interface StatsSnapshot {
  chat_completions: number;
  chat_completions_ok: number;
  faults_served: number;
  embeddings: number;
  by_model: Record<string, number>;
  requests: { model: string; last_user_message: string; stream: boolean; at: string }[];
}

/**
 * Global counters are kept exactly; per-match counters are computed by scanning the history,
 * which is only queried by tests and is cheap at their scale.
 */
export class SimStats {
  private history: RequestRecord[] = [];
  private totals = { chat: 0, chatOk: 0, faults: 0, embeddings: 0 };
  private byModel = new Map<string, number>();

  record(kind: RequestRecord['kind'], model: string, text: string, stream: boolean): RequestRecord {
    const rec: RequestRecord = { kind, model, text, stream, at: new Date().toISOString(), ok: false, faulted: false };
    if (kind === 'chat') this.totals.chat++;
    else this.totals.embeddings++;
    this.byModel.set(model, (this.byModel.get(model) ?? 0) + 1);
    this.history.push(rec);
    // Trim in batches so pushes stay amortised O(1).
    if (this.history.length > HISTORY_LIMIT * 1.1) this.history = this.history.slice(-HISTORY_LIMIT);
    return rec;
  }

  markOk(rec: RequestRecord): void {
    if (rec.ok) return;
    rec.ok = true;
    if (rec.kind === 'chat') this.totals.chatOk++;
  }

  markFaulted(rec: RequestRecord): void {
    if (rec.faulted) return;
    rec.faulted = true;
    this.totals.faults++;
  }

  reset(): void {
    this.history = [];
    this.totals = { chat: 0, chatOk: 0, faults: 0, embeddings: 0 };
    this.byModel.clear();
  }

  snapshot(match?: string): StatsSnapshot {
    if (match === undefined) {
      return {
        chat_completions: this.totals.chat,
        chat_completions_ok: this.totals.chatOk,
        faults_served: this.totals.faults,
        embeddings: this.totals.embeddings,
        by_model: Object.fromEntries(this.byModel),
        requests: this.recentChats(this.history),
      };
    }
    const matching = this.history.filter((r) => r.text.includes(match));
    const byModel: Record<string, number> = {};
    let chat = 0;
    let chatOk = 0;
    let faults = 0;
    let embeddings = 0;
    for (const r of matching) {
      byModel[r.model] = (byModel[r.model] ?? 0) + 1;
      if (r.kind === 'chat') chat++;
      else embeddings++;
      if (r.kind === 'chat' && r.ok) chatOk++;
      if (r.faulted) faults++;
    }
    return {
      chat_completions: chat,
      chat_completions_ok: chatOk,
      faults_served: faults,
      embeddings,
      by_model: byModel,
      requests: this.recentChats(matching),
    };
  }

  private recentChats(records: RequestRecord[]): StatsSnapshot['requests'] {
    const out: StatsSnapshot['requests'] = [];
    for (let i = records.length - 1; i >= 0 && out.length < RECENT_LIMIT; i--) {
      const r = records[i]!;
      if (r.kind === 'chat') out.push({ model: r.model, last_user_message: r.text, stream: r.stream, at: r.at });
    }
    return out.reverse();
  }
}
