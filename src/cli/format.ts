// Human output: numbers, money, ages, tables, and a progress display on stderr (a redrawn bar
// when stderr is a terminal, a plain line every few seconds otherwise, so logs stay readable).

export const fmtInt = (n: number): string => Math.round(n).toLocaleString('en-US');

/** "1 entry", "2,000 entries". */
export const entries = (n: number): string => `${fmtInt(n)} ${n === 1 ? 'entry' : 'entries'}`;

export const fmtPct = (rate: number): string => `${(rate * 100).toFixed(1)}%`;

/** $1,234.50 from a dollar up; below, up to 6 decimals without trailing zeros ($0.0321). */
/** Dollars; under $1 to the micro-cent (8 decimals), as precisely as costs are stored. */
export function fmtUsd(n: number): string {
  if (Math.abs(n) >= 1) return `$${n.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
  const s = n.toFixed(8).replace(/0+$/, '');
  const [, frac = ''] = s.split('.');
  return `$${frac.length < 2 ? n.toFixed(2) : s}`;
}

/** 3d 4h, 5h 2m, 12m, 40s. */
export function fmtAge(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d > 0) return h ? `${d}d ${h}h` : `${d}d`;
  if (h > 0) return m ? `${h}h ${m}m` : `${h}h`;
  if (m > 0) return `${m}m`;
  return `${s}s`;
}

export function fmtSeconds(seconds: number): string {
  return seconds < 60 ? `${seconds.toFixed(1)} s` : fmtAge(seconds);
}

/** One line, at most `width` characters (… when cut). */
export function oneLine(text: string, width: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  if (width < 1) return '';
  return flat.length <= width ? flat : `${flat.slice(0, Math.max(0, width - 1))}…`;
}

export type Align = 'left' | 'right';

/** A plain-text table: a header row, a rule, then the rows; columns padded to their widest cell. */
export function table(headers: string[], rows: string[][], align: Align[] = []): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 && align[i] !== 'right'
        ? c
        : align[i] === 'right'
        ? c.padStart(widths[i])
        : c.padEnd(widths[i]))
      )
      .join('  ')
      .trimEnd();
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** `label : value` lines with the labels aligned, as in the seed's manage_cache.py report. */
export function keyValues(pairs: Array<[string, string]>): string {
  const w = Math.max(...pairs.map(([k]) => k.length));
  return pairs.map(([k, v]) => `${k.padEnd(w)} : ${v}`).join('\n');
}

export interface Progress {
  start(total: number): void;
  update(done: number): void;
  finish(): void;
}

export interface ProgressOptions {
  label: string;
  stream?: NodeJS.WriteStream;
  quiet?: boolean;
  /** Plain-line mode: at most one line per this many ms. */
  lineIntervalMs?: number;
}

export function createProgress(opts: ProgressOptions): Progress {
  const stream = opts.stream ?? process.stderr;
  if (opts.quiet) return { start() {}, update() {}, finish() {} };
  const tty = Boolean(stream.isTTY);
  const lineInterval = opts.lineIntervalMs ?? 2000;
  let total = 0;
  let done = 0;
  let t0 = 0;
  let lastDraw = 0;
  let drawn = false;

  const rate = () => {
    const s = (performance.now() - t0) / 1000;
    return s > 0 ? done / s : 0;
  };
  const summary = () => {
    const shown = Math.max(total, done);
    const pct = shown > 0 ? Math.min(100, (done / shown) * 100) : 100;
    const r = rate();
    const eta = r > 0 && shown > done ? ` eta ${fmtAge((shown - done) / r)}` : '';
    return { pct, text: `${fmtInt(done)}/${fmtInt(shown)} ${pct.toFixed(0)}%  ${fmtInt(r)}/s${eta}` };
  };
  const drawBar = () => {
    const { pct, text } = summary();
    const cols = stream.columns ?? 80;
    const barWidth = Math.max(10, Math.min(40, cols - text.length - opts.label.length - 6));
    const filled = Math.round((pct / 100) * barWidth);
    stream.write(`\r\x1b[2K${opts.label} [${'█'.repeat(filled)}${'░'.repeat(barWidth - filled)}] ${text}`);
    drawn = true;
  };
  const drawLine = () => stream.write(`${opts.label}: ${summary().text}\n`);

  return {
    start(n) {
      total = n;
      t0 = performance.now();
      lastDraw = 0;
      if (tty) drawBar();
      else stream.write(`${opts.label}: ${entries(n)} to delete\n`);
    },
    update(n) {
      done = n;
      const now = performance.now();
      if (tty && now - lastDraw >= 100) {
        lastDraw = now;
        drawBar();
      } else if (!tty && now - lastDraw >= lineInterval) {
        if (lastDraw !== 0) drawLine();
        lastDraw = now;
      }
    },
    finish() {
      if (tty) {
        if (drawn) drawBar();
        stream.write('\n');
      }
    },
  };
}
