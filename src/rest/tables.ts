// Tables and views: GET/HEAD reads, POST inserts and upserts, PATCH updates, DELETE, each as a
// single statement shaped like PostgREST's (a CTE for the work, one row with total, page
// count, aggregated JSON body and the response GUCs).
import { explainStatement, planCount, resolveTotal } from './counting.ts';
import {
  contentRange,
  effectiveRange,
  finish,
  isPlainObject,
  num,
  readOutcome,
  readPayload,
  type RequestContext,
  requestSettings,
  singularCheck,
} from './context.ts';
import type { Database, Row, Statement, TxSpec } from './db.ts';
import { invalidBody, notSupported, RestError } from './errors.ts';
import { planSelect } from './embedding.ts';
import { parseRangeHeader } from './query-params.ts';
import type { Relation } from './schema-cache.ts';
import { ident, limitOffsetSql, orderSql, Params, qualified, RESPONSE_GUCS, whereSql } from './sql-builder.ts';

type RunTx = (spec: TxSpec) => Promise<Row[][]>;

export async function handleRelation(ctx: RequestContext, rel: Relation, db: Database): Promise<void> {
  const run: RunTx = (spec) => db.run(spec);
  switch (ctx.method) {
    case 'GET':
    case 'HEAD':
      return read(ctx, rel, run);
    case 'POST':
      return insert(ctx, rel, run);
    case 'PATCH':
      return update(ctx, rel, run);
    case 'DELETE':
      return remove(ctx, rel, run);
    default:
      throw new RestError(405, 'PGRST117', `Unsupported HTTP method: ${ctx.method}`);
  }
}

/** `json_agg` of the rows, shaped by Accept (array or single object, nulls stripped or not). */
export function bodyExpr(ctx: RequestContext, row = '_postgrest_t'): string {
  if (ctx.head) return "''";
  const agg = ctx.media.stripNulls ? `json_agg(json_strip_nulls(to_json(${row})))` : `json_agg(${row})`;
  return ctx.media.kind === 'object' ? `coalesce((${agg}->0)::text, '')` : `coalesce(${agg}, '[]')::text`;
}

async function read(ctx: RequestContext, rel: Relation, run: RunTx): Promise<void> {
  const q = qualified(rel.schema, rel.name);
  const range = effectiveRange(ctx, parseRangeHeader(ctx.req.headers.range));
  const p = new Params();
  const plan = planSelect(ctx, rel, q, ctx.params.select, p);
  const where = whereSql(q, ctx.params.where, p);
  const order = orderSql(q, ctx.params.order, p);
  // `!inner` embeds drop parents, so only then does the count need the joins.
  const countFrom = plan.filtersParents ? q + plan.joins : q;
  const count = planCount(ctx.prefs.count, countFrom + where, () => {
    const ep = new Params();
    const joins = plan.filtersParents ? planSelect(ctx, rel, q, ctx.params.select, ep).joins : '';
    return explainStatement(q + joins + whereSql(q, ctx.params.where, ep), ep.values);
  }, ctx.maxRows);
  const main: Statement = {
    text:
      `SELECT ${count.totalExpr} AS total, pg_catalog.count(_postgrest_t)::text AS page_total, ${
        bodyExpr(ctx)
      } AS body, ${RESPONSE_GUCS} ` +
      `FROM (SELECT ${plan.items} FROM ${q}${plan.joins}${where}${order}${
        limitOffsetSql(range.limit, range.offset, p)
      }) _postgrest_t`,
    params: p.values,
  };
  const results = await run({
    readOnly: true,
    settings: requestSettings(ctx),
    statements: count.explain ? [count.explain, main] : [main],
  });
  const row = results[results.length - 1][0];
  const pageTotal = Number(row.page_total);
  const singular = singularCheck(ctx, pageTotal);
  if (singular) throw singular;
  const total = resolveTotal(count, results, ctx.maxRows);
  const outcome = readOutcome(range, pageTotal, total);
  finish(ctx, { status: outcome.status, row, body: row.body ?? '', contentRange: outcome.contentRange });
}

// ---------- writes ----------

async function columnsExist(ctx: RequestContext, rel: Relation, names: Iterable<string>): Promise<Relation> {
  let current = rel;
  for (const name of names) {
    if (current.columns.has(name)) continue;
    if (await ctx.refresh('relation', rel.name)) {
      const fresh = ctx.cache.relations.get(rel.schema + '\u0000' + rel.name);
      if (fresh) {
        current = fresh;
        if (current.columns.has(name)) continue;
      }
    }
    throw new RestError(400, 'PGRST204', `Could not find the '${name}' column of '${rel.name}' in the schema cache`);
  }
  return current;
}

interface MutationShape {
  returning: string;
  /** FROM clause producing the affected rows for the response select. */
  rowsFrom: string;
  insertedExpr: string;
}

function wantsBody(ctx: RequestContext): boolean {
  return ctx.prefs.return === 'representation';
}

/** What the mutation returns: `1` unless rows are needed (SELECT policies then apply, as in PostgREST). */
function mutationShape(ctx: RequestContext, rowRef: string, pkCols: string[], upsertMerge: boolean): MutationShape {
  if (upsertMerge) {
    // xmax = 0 marks rows this statement inserted (not updated): 201 vs 200.
    return wantsBody(ctx) || (ctx.prefs.return === 'headers-only' && pkCols.length)
      ? {
        returning: `${rowRef} AS pgrst_row, ${rowRef}.xmax = 0 AS pgrst_inserted`,
        rowsFrom: '(SELECT (pgrst_row).* FROM pgrst_mut) pgrst_source',
        insertedExpr: '(SELECT pg_catalog.count(*) FROM pgrst_mut WHERE pgrst_inserted)::text',
      }
      : {
        returning: `${rowRef}.xmax = 0 AS pgrst_inserted`,
        rowsFrom: 'pgrst_mut pgrst_source',
        insertedExpr: '(SELECT pg_catalog.count(*) FROM pgrst_mut WHERE pgrst_inserted)::text',
      };
  }
  if (wantsBody(ctx)) return { returning: `${rowRef}.*`, rowsFrom: 'pgrst_mut pgrst_source', insertedExpr: 'NULL' };
  if (ctx.prefs.return === 'headers-only' && pkCols.length) {
    return {
      returning: pkCols.map((c) => `${rowRef}.${ident(c)}`).join(', '),
      rowsFrom: 'pgrst_mut pgrst_source',
      insertedExpr: 'NULL',
    };
  }
  return { returning: '1', rowsFrom: 'pgrst_mut pgrst_source', insertedExpr: 'NULL' };
}

/** `ctes` ends with `pgrst_mut AS (…)`; data-modifying CTEs must all sit at the top level. */
function mutationStatement(
  ctx: RequestContext,
  rel: Relation,
  ctes: string,
  shape: MutationShape,
  p: Params,
  pkCols: string[],
): Statement {
  let select: string;
  let body: string;
  if (wantsBody(ctx)) {
    const plan = planSelect(ctx, rel, 'pgrst_source', ctx.params.select, p);
    select = `SELECT ${plan.items} FROM ${shape.rowsFrom}${plan.joins}${orderSql('pgrst_source', ctx.params.order, p)}`;
    body = bodyExpr(ctx);
  } else if (ctx.prefs.return === 'headers-only' && pkCols.length) {
    select = `SELECT ${pkCols.map((c) => 'pgrst_source.' + ident(c)).join(', ')} FROM ${shape.rowsFrom}`;
    body = `coalesce(json_agg(_postgrest_t), '[]')::text`;
  } else {
    select = `SELECT 1 FROM ${shape.rowsFrom}`;
    body = "''";
  }
  return {
    text: `WITH ${ctes} SELECT NULL AS total, pg_catalog.count(_postgrest_t)::text AS page_total, ${body} AS body, ` +
      `${shape.insertedExpr} AS inserted, ${RESPONSE_GUCS} FROM (${select}) _postgrest_t`,
    params: p.values,
  };
}

/** Rejects with the rows kept out of the database when the answer cannot be what was asked. */
function writeCheck(ctx: RequestContext): ((r: Row[][]) => RestError | null) | undefined {
  const needsSingle = ctx.media.kind === 'object' && wantsBody(ctx);
  const max = ctx.prefs.handling === 'strict' ? ctx.prefs.maxAffected : undefined;
  if (!needsSingle && max === undefined) return undefined;
  return (results) => {
    const n = Number(results[0][0].page_total);
    if (needsSingle) {
      const e = singularCheck(ctx, n);
      if (e) return e;
    }
    if (max !== undefined && n > max) {
      return new RestError(
        400,
        'PGRST124',
        'Query result exceeds max-affected preference constraint',
        `The query affects ${n} rows`,
      );
    }
    return null;
  };
}

async function insert(ctx: RequestContext, relIn: Relation, run: RunTx): Promise<void> {
  const payload = await readPayload(ctx.req);
  if (payload.kind === 'empty') throw invalidBody();
  const value = payload.value;
  const rows = Array.isArray(value) ? value : [value];
  if (!rows.every(isPlainObject)) throw invalidBody('All object keys must match');
  const rawArray = Array.isArray(value) ? payload.raw : `[${payload.raw}]`;

  const explicit = ctx.params.columns;
  const keySets = rows.map((r) => Object.keys(r as object).filter((k) => !explicit || explicit.includes(k)));
  const allKeys = explicit ?? [...new Set(keySets.flat())];
  const rel = await columnsExist(ctx, relIn, allKeys);
  const q = qualified(rel.schema, rel.name);

  const resolution = ctx.prefs.resolution;
  const conflictCols = resolution ? (ctx.params.onConflict ?? rel.primaryKey) : [];
  if (ctx.params.onConflict) await columnsExist(ctx, rel, ctx.params.onConflict);
  const upsertMerge = resolution === 'merge-duplicates' && conflictCols.length > 0 &&
    (rel.kind === 'r' || rel.kind === 'p');

  // Without `missing=default` absent keys become NULL (one column list for all rows); with it,
  // each group of rows sharing a key set gets its own INSERT so omitted columns take defaults.
  const groups = new Map<string, string[]>();
  if (ctx.prefs.missing === 'default') { for (const ks of keySets) groups.set([...ks].sort().join('\u0000'), ks); }
  else groups.set('', allKeys);

  const p = new Params();
  const shape = mutationShape(ctx, 'pgrst_ins_t', rel.primaryKey, upsertMerge);
  const signature = (cols: string[]) => [...cols].sort().join('\u0000');
  const inserts = [...groups.values()].map((cols) => {
    const payloadParam = groups.size === 1
      ? p.add(rawArray)
      : p.add(JSON.stringify(rows.filter((_, i) => signature(keySets[i]) === signature(cols))));
    const colList = cols.map(ident).join(', ');
    let sqlText = `INSERT INTO ${q} AS pgrst_ins_t${cols.length ? ` (${colList})` : ''} SELECT ${colList} ` +
      `FROM json_populate_recordset(NULL::${q}, ${payloadParam}::json) pgrst_body`;
    if (resolution && conflictCols.length) {
      sqlText += ` ON CONFLICT (${conflictCols.map(ident).join(', ')}) ` +
        (resolution === 'ignore-duplicates' || cols.length === 0
          ? 'DO NOTHING'
          : 'DO UPDATE SET ' + cols.map((c) => `${ident(c)} = EXCLUDED.${ident(c)}`).join(', '));
    }
    return `${sqlText} RETURNING ${shape.returning}`;
  });
  const ctes = inserts.length === 1
    ? `pgrst_mut AS (${inserts[0]})`
    : `${inserts.map((s, i) => `pgrst_g${i} AS (${s})`).join(', ')}, pgrst_mut AS (${
      inserts.map((_, i) => `SELECT * FROM pgrst_g${i}`).join(' UNION ALL ')
    })`;

  const statement = mutationStatement(ctx, rel, ctes, shape, p, rel.primaryKey);
  const [[row]] = await run({
    readOnly: false,
    settings: requestSettings(ctx),
    statements: [statement],
    check: writeCheck(ctx),
  });
  const n = Number(row.page_total);
  const counted = ctx.prefs.count ? n : null;
  const status = upsertMerge && num(row.inserted) === 0 && n > 0 ? 200 : 201;
  const extraHeaders: Record<string, string> = {};
  if (ctx.prefs.return === 'headers-only' && rel.primaryKey.length && n === 1) {
    const pk = (JSON.parse(row.body ?? '[]') as Record<string, unknown>[])[0] ?? {};
    const qs = rel.primaryKey.map((c) => `${encodeURIComponent(c)}=eq.${encodeURIComponent(String(pk[c]))}`).join('&');
    extraHeaders.Location = `/${encodeURIComponent(rel.name)}?${qs}`;
  }
  finish(ctx, {
    status,
    row,
    body: wantsBody(ctx) ? row.body ?? '' : null,
    contentRange: contentRange(1, 0, counted),
    extraHeaders,
  });
}

async function update(ctx: RequestContext, relIn: Relation, run: RunTx): Promise<void> {
  rejectLimits(ctx);
  const payload = await readPayload(ctx.req);
  if (payload.kind === 'empty') throw invalidBody();
  if (!isPlainObject(payload.value)) throw notSupported('PATCH with a JSON array body (bulk update)');
  const keys = Object.keys(payload.value).filter((k) => !ctx.params.columns || ctx.params.columns.includes(k));
  const rel = await columnsExist(ctx, relIn, keys);
  const q = qualified(rel.schema, rel.name);
  const p = new Params();
  const shape = mutationShape(ctx, q, [], false);
  let mutation: string;
  if (keys.length === 0) {
    mutation = `SELECT ${shape.returning === '1' ? '1' : q + '.*'} FROM ${q} WHERE false`;
  } else {
    const body = p.add(payload.raw);
    const where = whereSql(q, ctx.params.where, p);
    mutation = `UPDATE ${q} SET ${keys.map((k) => `${ident(k)} = pgrst_body.${ident(k)}`).join(', ')} ` +
      `FROM (SELECT * FROM json_populate_record(NULL::${q}, ${body}::json)) pgrst_body${where} RETURNING ${shape.returning}`;
  }
  await finishChange(ctx, run, mutationStatement(ctx, rel, `pgrst_mut AS (${mutation})`, shape, p, []));
}

async function remove(ctx: RequestContext, rel: Relation, run: RunTx): Promise<void> {
  rejectLimits(ctx);
  const q = qualified(rel.schema, rel.name);
  const p = new Params();
  const shape = mutationShape(ctx, q, [], false);
  const mutation = `DELETE FROM ${q}${whereSql(q, ctx.params.where, p)} RETURNING ${shape.returning}`;
  await finishChange(ctx, run, mutationStatement(ctx, rel, `pgrst_mut AS (${mutation})`, shape, p, []));
}

function rejectLimits(ctx: RequestContext): void {
  if (ctx.params.limit !== undefined || ctx.params.offset !== undefined) {
    throw notSupported(`limit/offset on ${ctx.method} (limited updates and deletes)`);
  }
}

async function finishChange(ctx: RequestContext, run: RunTx, statement: Statement): Promise<void> {
  const [[row]] = await run({
    readOnly: false,
    settings: requestSettings(ctx),
    statements: [statement],
    check: writeCheck(ctx),
  });
  const n = Number(row.page_total);
  const body = wantsBody(ctx);
  finish(ctx, {
    status: body ? 200 : 204,
    row,
    body: body ? row.body ?? '' : null,
    contentRange: contentRange(0, n - 1, ctx.prefs.count ? n : null),
  });
}
