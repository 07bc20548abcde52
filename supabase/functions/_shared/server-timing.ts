// Server-Timing (W3C) on every answer: where a request's time went (auth, db, model, store),
// readable in browser dev tools and by the bench, at the cost of a few performance.now() calls.
export class ServerTiming {
  private readonly marks: string[] = [];
  private last = performance.now();
  private readonly start = this.last;

  /** Records the time since the previous mark under `name`. */
  mark(name: string): void {
    const now = performance.now();
    this.marks.push(`${name};dur=${(now - this.last).toFixed(2)}`);
    this.last = now;
  }

  header(): Record<string, string> {
    return { 'server-timing': [...this.marks, `total;dur=${(performance.now() - this.start).toFixed(2)}`].join(', ') };
  }
}
