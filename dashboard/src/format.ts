// Figures are shown exactly as get_cache_stats returns them (no rounding of counts or money,
// so what the page says can be checked against the RPC); only the rates become percentages.
export const count = (n: number | null | undefined) => String(Number(n ?? 0));

export const percent = (rate: number | null | undefined) =>
  `${(Number(rate ?? 0) * 100).toFixed(2).replace(/\.?0+$/, '')}%`;

/** US dollars with every decimal get_cache_stats returns (costs are numeric(…, 12)), at least two. */
export function usd(n: number | string | null | undefined): string {
  const [whole, decimals = ''] = Number(n ?? 0).toFixed(12).replace(/0+$/, '').split('.');
  return `$${whole}.${decimals.padEnd(2, '0')}`;
}

export function age(seconds: number): string {
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)}h`;
  return `${Math.floor(seconds / 86400)}d`;
}

export const when = (iso: string | null | undefined) => (iso ? new Date(iso).toLocaleString() : 'never');
