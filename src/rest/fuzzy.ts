// Suggestions for "Perhaps you meant …" hints, in the spirit of PostgREST's fuzzy set lookups.

function levenshtein(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0];
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j];
      prev[j] = Math.min(prev[j] + 1, prev[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = tmp;
    }
  }
  return prev[b.length];
}

/** The most similar candidate scoring at least `minScore` (1 = identical), or null. */
export function bestMatch(target: string, candidates: Iterable<string>, minScore: number): string | null {
  let best: string | null = null;
  let bestScore = -1;
  for (const c of candidates) {
    const len = Math.max(c.length, target.length) || 1;
    const score = 1 - levenshtein(target.toLowerCase(), c.toLowerCase()) / len;
    if (score > bestScore) {
      best = c;
      bestScore = score;
    }
  }
  return bestScore >= minScore ? best : null;
}
