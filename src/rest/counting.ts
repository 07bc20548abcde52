// `Prefer: count=exact|planned|estimated` → the total after the slash of Content-Range.
import type { Row, Statement } from './db.ts';

export interface CountPlan {
  /** SQL expression for the main statement's `total` column. */
  totalExpr: string;
  /** EXPLAIN statement to run before the main one (planned/estimated). */
  explain?: Statement;
}

/**
 * `fromWhere` is `<source> WHERE …` without limit, with placeholders bound in the main statement;
 * `explainFromWhere` the same text bound by `explainParams` (a statement needs every $n it names).
 * Estimated counts exactly up to max-rows (a bounded scan) and trusts the planner beyond, as PostgREST.
 */
export function planCount(
  kind: 'exact' | 'planned' | 'estimated' | undefined,
  fromWhere: string,
  explain: () => Statement,
  maxRows: number | undefined,
): CountPlan {
  switch (kind) {
    case 'exact':
      return { totalExpr: `(SELECT pg_catalog.count(*) FROM ${fromWhere})::text` };
    case 'planned':
      return { totalExpr: 'NULL', explain: explain() };
    case 'estimated':
      if (maxRows === undefined) return { totalExpr: `(SELECT pg_catalog.count(*) FROM ${fromWhere})::text` };
      return {
        totalExpr: `(SELECT pg_catalog.count(*) FROM (SELECT 1 FROM ${fromWhere} LIMIT ${
          maxRows + 1
        }) pgrst_bounded)::text`,
        explain: explain(),
      };
    default:
      return { totalExpr: 'NULL' };
  }
}

export function explainStatement(fromWhere: string, params: (string | null)[]): Statement {
  return { text: `EXPLAIN (FORMAT JSON) SELECT 1 FROM ${fromWhere}`, params };
}

/** Reads the total from the statements' results (explain first when present). */
export function resolveTotal(kind: CountPlan, results: Row[][], maxRows: number | undefined): number | null {
  const main = results[results.length - 1][0];
  const exact = main.total === null || main.total === undefined ? null : Number(main.total);
  if (!kind.explain) return exact;
  const planRow = results[0][0];
  const planJson = planRow ? (Object.values(planRow)[0] as string) : '[]';
  const planned = Number((JSON.parse(planJson) as { Plan: { 'Plan Rows': number } }[])[0]?.Plan?.['Plan Rows'] ?? 0);
  if (exact === null) return planned;
  return maxRows !== undefined && exact > maxRows ? Math.max(planned, exact) : exact;
}
