// /rpc/<fn>: overload resolution by argument names, arguments cast to the parameter types by
// Postgres itself (json_to_record, as PostgREST), and the result serialized by its shape.
import { explainStatement, planCount, resolveTotal } from './counting.ts';
import {
  effectiveRange,
  finish,
  isPlainObject,
  readOutcome,
  readPayload,
  type RequestContext,
  requestSettings,
  singularCheck,
} from './context.ts';
import type { Database, Row, Statement } from './db.ts';
import { RestError } from './errors.ts';
import { bestMatch } from './fuzzy.ts';
import { parseRangeHeader } from './query-params.ts';
import { cacheKey, type Routine } from './schema-cache.ts';
import {
  ident,
  limitOffsetSql,
  orderSql,
  Params,
  qualified,
  RESPONSE_GUCS,
  selectListSql,
  whereSql,
} from './sql-builder.ts';

const isJsonType = (t: string) => t === 'json' || t === 'jsonb';

interface CallArgs {
  /** Names the client supplied (resolution input). */
  keys: string[];
  /** JSON object text of the arguments, or the whole body for single-parameter calls. */
  json: string;
  isPost: boolean;
  singleObject: boolean;
}

export async function handleRpc(ctx: RequestContext, name: string, db: Database): Promise<void> {
  if (ctx.method !== 'GET' && ctx.method !== 'HEAD' && ctx.method !== 'POST') {
    throw new RestError(405, 'PGRST101', `Cannot use the ${ctx.method} method on RPC`);
  }
  const args = await collectArgs(ctx);
  let routine = resolve(ctx, name, args);
  // Functions created after the cache was loaded (migrations run later) are picked up here.
  if (routine instanceof RestError && routine.code === 'PGRST202' && await ctx.refresh('routine', name)) {
    routine = resolve(ctx, name, args);
  }
  if (routine instanceof RestError) throw routine;
  await call(ctx, routine, args, db);
}

async function collectArgs(ctx: RequestContext): Promise<CallArgs> {
  const singleObject = ctx.prefs.params === 'single-object';
  if (ctx.method !== 'POST') {
    const obj: Record<string, string | string[]> = {};
    for (const [k, vs] of ctx.params.rpcArgs) obj[k] = vs.length > 1 ? vs : vs[0];
    return { keys: [...ctx.params.rpcArgs.keys()], json: JSON.stringify(obj), isPost: false, singleObject };
  }
  const payload = await readPayload(ctx.req);
  if (payload.kind === 'empty') return { keys: [], json: '{}', isPost: true, singleObject };
  let value = payload.value;
  let raw = payload.raw;
  if (singleObject) {
    return { keys: isPlainObject(value) ? Object.keys(value) : [], json: raw, isPost: true, singleObject };
  }
  if (Array.isArray(value)) {
    // PostgREST calls the function with the first object of an array body.
    value = value[0] ?? {};
    raw = JSON.stringify(value);
  }
  if (!isPlainObject(value)) {
    // Only a single unnamed json/jsonb parameter can take a non-object body.
    return { keys: [], json: raw, isPost: true, singleObject: false };
  }
  const keys = Object.keys(value).filter((k) => !ctx.params.columns || ctx.params.columns.includes(k));
  return { keys, json: raw, isPost: true, singleObject };
}

function matches(r: Routine, args: CallArgs): boolean {
  if (args.singleObject) return r.params.length === 1 && isJsonType(r.params[0].type);
  if (r.params.length === 0) return args.keys.length === 0;
  const names = new Set(r.params.map((p) => p.name));
  if (!args.keys.every((k) => names.has(k))) return false;
  return r.params.every((p) => p.hasDefault || args.keys.includes(p.name));
}

const singleUnnamedJson = (r: Routine) =>
  r.params.length === 1 && r.params[0].name === '' && isJsonType(r.params[0].type);

function resolve(ctx: RequestContext, name: string, args: CallArgs): Routine | RestError {
  const candidates = ctx.cache.routines.get(cacheKey(ctx.schema, name)) ?? [];
  const matched = candidates.filter((r) => matches(r, args));
  if (matched.length === 1) return matched[0];
  if (matched.length > 1) return ambiguous(matched);
  const unnamed = args.isPost ? candidates.filter(singleUnnamedJson) : [];
  if (unnamed.length === 1) return unnamed[0];
  if (unnamed.length > 1) return ambiguous(unnamed);
  return notFound(ctx, name, args, candidates);
}

function ambiguous(routines: Routine[]): RestError {
  const list = routines.map((r) =>
    `${r.schema}.${r.name}(${r.params.map((p) => `${p.name} => ${p.type}`).join(', ')})`
  );
  return new RestError(
    300,
    'PGRST203',
    `Could not choose the best candidate function between: ${list.join(', ')}`,
    null,
    'Try renaming the parameters or the function itself in the database so function overloading can be resolved',
  );
}

function notFound(ctx: RequestContext, name: string, args: CallArgs, overloads: Routine[]): RestError {
  const fn = `${ctx.schema}.${name}`;
  if (args.singleObject) {
    return new RestError(
      404,
      'PGRST202',
      `Could not find the function ${fn} in the schema cache`,
      `Searched for the function ${fn} with a single json/jsonb parameter, but no matches were found in the schema cache.`,
    );
  }
  const keys = [...args.keys].sort();
  const message = `Could not find the function ${fn}${
    keys.length ? `(${keys.join(', ')})` : ' without parameters'
  } in the schema cache`;
  const withParams = keys.length
    ? ` with parameter${keys.length > 1 ? 's' : ''} ${keys.join(', ')}`
    : ' without parameters';
  const details = `Searched for the function ${fn}${withParams}${
    args.isPost ? ' or with a single unnamed json/jsonb parameter' : ''
  }, but no matches were found in the schema cache.`;
  let hint: string | null = null;
  if (overloads.length === 0) {
    const names: string[] = [];
    for (const list of ctx.cache.routines.values()) if (list[0].schema === ctx.schema) names.push(list[0].name);
    const best = bestMatch(name, names, 0.75);
    if (best) hint = `Perhaps you meant to call the function ${ctx.schema}.${best}`;
  } else {
    const lists = overloads.map((r) => `(${r.params.map((p) => p.name).sort().join(', ')})`);
    const best = bestMatch(`(${keys.join(', ')})`, lists, 0.33);
    if (best) hint = `Perhaps you meant to call the function ${fn}${best}`;
  }
  return new RestError(404, 'PGRST202', message, details, hint);
}

/** `FROM …` part producing the call's rows: composite results expand into columns, scalars are one column. */
function callSource(routine: Routine, args: CallArgs, p: Params): string {
  const fn = qualified(routine.schema, routine.name);
  const scalar = routine.shape !== 'composite' && routine.shape !== 'setof-composite';
  const wrap = (call: string, record?: string) =>
    scalar
      ? `SELECT ${call} AS pgrst_scalar${record ? ' FROM ' + record : ''}`
      : `SELECT pgrst_call.* FROM ${record ? record + ', LATERAL ' : ''}${call} pgrst_call`;
  if (routine.params.length === 0) return wrap(`${fn}()`);
  const wholeBody = args.singleObject || (routine.params.length === 1 && routine.params[0].name === '');
  if (wholeBody) return wrap(`${fn}(${p.add(args.json)}::${routine.params[0].type})`);
  const used = routine.params.filter((prm) => args.keys.includes(prm.name));
  if (used.length === 0) return wrap(`${fn}()`);
  const record = `json_to_record(${p.add(args.json)}::json) AS pgrst_body(${
    used.map((prm) => `${ident(prm.name)} ${prm.type}`).join(', ')
  })`;
  const named = used.map((prm) =>
    `${prm.variadic ? 'VARIADIC ' : ''}${ident(prm.name)} := pgrst_body.${ident(prm.name)}`
  ).join(', ');
  return wrap(`${fn}(${named})`, record);
}

async function call(ctx: RequestContext, routine: Routine, args: CallArgs, db: Database): Promise<void> {
  const readOnly = ctx.method !== 'POST' || routine.volatility !== 'v';
  const range = effectiveRange(ctx, parseRangeHeader(ctx.req.headers.range));
  const p = new Params();
  const source = callSource(routine, args, p);
  const scalar = routine.shape !== 'composite' && routine.shape !== 'setof-composite';
  const items = scalar ? 'pgrst_source.pgrst_scalar' : selectListSql(ctx.params.select, 'pgrst_source', p);
  const where = whereSql('pgrst_source', ctx.params.where, p);
  const order = orderSql('pgrst_source', ctx.params.order, p);
  const count = planCount(ctx.prefs.count, 'pgrst_source' + where, () => {
    const ep = new Params();
    const src = callSource(routine, args, ep);
    return explainStatement(`(${src}) pgrst_source${whereSql('pgrst_source', ctx.params.where, ep)}`, ep.values);
  }, ctx.maxRows);
  const main: Statement = {
    text:
      `WITH pgrst_source AS (${source}) SELECT ${count.totalExpr} AS total, pg_catalog.count(_postgrest_t)::text AS page_total, ` +
      `${rpcBody(ctx, routine)} AS body, ${RESPONSE_GUCS} ` +
      `FROM (SELECT ${items} FROM pgrst_source${where}${order}${
        limitOffsetSql(range.limit, range.offset, p)
      }) _postgrest_t`,
    params: p.values,
  };
  // A write whose result cannot be the single object asked for is undone, as PostgREST does.
  const check = !readOnly && ctx.media.kind === 'object'
    ? (r: Row[][]) => singularCheck(ctx, Number(r[r.length - 1][0].page_total))
    : undefined;
  const results = await db.run({
    readOnly,
    settings: requestSettings(ctx),
    statements: count.explain ? [count.explain, main] : [main],
    check,
  });
  const row = results[results.length - 1][0];
  if (routine.shape === 'void') {
    finish(ctx, { status: 204, row, body: null });
    return;
  }
  const pageTotal = Number(row.page_total);
  const singular = singularCheck(ctx, pageTotal);
  if (singular) throw singular;
  const total = resolveTotal(count, results, ctx.maxRows);
  const outcome = readOutcome(range, pageTotal, total);
  finish(ctx, { status: outcome.status, row, body: row.body ?? '', contentRange: outcome.contentRange });
}

function rpcBody(ctx: RequestContext, routine: Routine): string {
  if (ctx.head || routine.shape === 'void') return "''";
  const single = ctx.media.kind === 'object';
  const strip = (x: string) => (ctx.media.stripNulls ? `json_strip_nulls(${x})` : x);
  switch (routine.shape) {
    case 'scalar':
    case 'record':
      return `coalesce((json_agg(_postgrest_t.pgrst_scalar)->0)::text, 'null')`;
    case 'setof-scalar':
      return single
        ? `coalesce((json_agg(_postgrest_t.pgrst_scalar)->0)::text, 'null')`
        : `coalesce(json_agg(_postgrest_t.pgrst_scalar), '[]')::text`;
    case 'composite':
      return `coalesce((${strip('json_agg(_postgrest_t)->0')})::text, 'null')`;
    case 'setof-composite':
      return single
        ? `coalesce((${strip('json_agg(_postgrest_t)->0')})::text, 'null')`
        : `coalesce(${
          ctx.media.stripNulls ? 'json_agg(json_strip_nulls(to_json(_postgrest_t)))' : 'json_agg(_postgrest_t)'
        }, '[]')::text`;
  }
}
