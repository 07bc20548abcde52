// The `/rest/v1` API: PostgREST's protocol for what supabase-js sends, in Node. The gateway
// mounts `handle` and owns CORS; this module owns Kong's apikey check, JWT role switching,
// routing to tables/views and /rpc, and the PostgREST error format.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Sql } from 'postgres';
import { type RequestContext } from './context.ts';
import { Database, TxError } from './db.ts';
import { fromDbError, GatewayError, RestError } from './errors.ts';
import { bestMatch } from './fuzzy.ts';
import { JSON_TYPE, send, sendError } from './http-io.ts';
import { createAuthenticator } from './jwt.ts';
import { negotiate, parsePrefer, parseQuery } from './query-params.ts';
import { handleRpc } from './rpc.ts';
import { cacheKey, catalogDiffers, loadSchemaCache, type SchemaCache } from './schema-cache.ts';
import { handleRelation } from './tables.ts';

export interface RestOptions {
  dbUrl: string; // connect as authenticator
  jwtSecret: string;
  /** The project's opaque API keys (sb_publishable_… → anon, sb_secret_… → service_role). */
  apiKeys?: { publishable: string[]; secret: string[] };
  schemas?: string[]; // default ['public']
  maxRows?: number;
  /** Pipelined database connections ("lanes", see db.ts); 4 suits a 2-core machine. */
  poolSize?: number;
}

export interface RestHandler {
  handle(req: IncomingMessage, res: ServerResponse, path: string, query: URLSearchParams): Promise<void>;
  reloadSchema(): Promise<void>;
  close(): Promise<void>;
}

/** Supabase's `db-extra-search-path`: extension functions resolve unqualified. */
const EXTRA_SEARCH_PATH = ['public', 'extensions'];
const ANON_ROLE = 'anon';

class SchemaState {
  cache!: SchemaCache;
  private current: Promise<void> | null = null;
  private queued: Promise<void> | null = null;

  constructor(private readonly sql: Sql, private readonly schemas: string[]) {}

  /** Coalesces concurrent reloads, but one requested mid-load runs again so it sees later DDL. */
  reload(): Promise<void> {
    if (!this.current) {
      this.current = loadSchemaCache(this.sql, this.schemas)
        .then((c) => {
          this.cache = c;
        })
        .finally(() => {
          this.current = null;
        });
      return this.current;
    }
    if (!this.queued) {
      this.queued = this.current.catch(() => undefined).then(() => {
        this.queued = null;
        return this.reload();
      });
    }
    return this.queued;
  }
}

export async function createRestHandler(opts: RestOptions): Promise<RestHandler> {
  const schemas = opts.schemas?.length ? opts.schemas : ['public'];
  const db = new Database(opts.dbUrl, opts.poolSize ?? 4);
  const sql = db.aux;
  const authenticate = createAuthenticator(opts.jwtSecret, ANON_ROLE, opts.apiKeys);
  const state = new SchemaState(sql, schemas);
  await state.reload();

  let listening = false;
  const reloadInBackground = () => state.reload().catch((e) => console.error('[rest] schema cache reload failed:', e));
  const listener = await sql.listen('pgrst', (payload) => {
    if (payload === '' || payload === 'reload schema') void reloadInBackground();
  }, () => {
    // Notifications sent while the listener was reconnecting are lost: reload to be safe.
    if (listening) void reloadInBackground();
    listening = true;
  });

  async function handle(
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    query: URLSearchParams,
  ): Promise<void> {
    const method = (req.method ?? 'GET').toUpperCase();
    const head = method === 'HEAD';
    let authed = false;
    try {
      // Browsers send CORS preflights without credentials; the gateway adds the CORS headers.
      if (method === 'OPTIONS') {
        send(res, 200, { Allow: 'OPTIONS,GET,HEAD,POST,PUT,PATCH,DELETE' }, '');
        return;
      }
      const auth = await authenticate(req.headers, query.get('apikey'));
      authed = auth.role !== ANON_ROLE;
      let segments: string[];
      try {
        segments = path.split('/').filter((s) => s !== '').map(decodeURIComponent);
      } catch {
        throw invalidPath();
      }
      if (segments.length === 0) return root(res, method, head, state.cache, schemas[0]);
      const isRpc = segments[0] === 'rpc' && segments.length === 2;
      if (!isRpc && segments.length !== 1) throw invalidPath();

      const profile =
        (method === 'GET' || method === 'HEAD' ? req.headers['accept-profile'] : req.headers['content-profile']) as
          | string
          | undefined;
      const schema = profile ?? schemas[0];
      if (!schemas.includes(schema)) {
        throw new RestError(406, 'PGRST106', `The schema must be one of the following: ${schemas.join(', ')}`);
      }
      const ctx: RequestContext = {
        req,
        res,
        method,
        head,
        path,
        schema,
        auth,
        authed,
        prefs: parsePrefer(headerText(req.headers.prefer)),
        media: negotiate(req.headers.accept),
        params: parseQuery(query, isRpc && (method === 'GET' || method === 'HEAD')),
        cache: state.cache,
        maxRows: opts.maxRows,
        extraSearchPath: EXTRA_SEARCH_PATH,
        async refresh(kind, name) {
          if (!(await catalogDiffers(sql, ctx.cache, kind, schema, name))) return false;
          await state.reload();
          ctx.cache = state.cache;
          return true;
        },
      };
      if (isRpc) {
        await handleRpc(ctx, segments[1], db);
        return;
      }
      const name = segments[0];
      let rel = ctx.cache.relations.get(cacheKey(schema, name));
      if (!rel && (await ctx.refresh('relation', name))) rel = ctx.cache.relations.get(cacheKey(schema, name));
      if (!rel) throw tableNotFound(ctx.cache, schema, name);
      await handleRelation(ctx, rel, db);
    } catch (e) {
      const err = e instanceof TxError
        ? fromDbError(e.cause, authed)
        : e instanceof RestError || e instanceof GatewayError
        ? e
        : fromDbError(e, authed);
      if (err instanceof RestError && err.code.startsWith('PGRSTX')) console.error('[rest] unexpected error:', e);
      if (res.headersSent) res.destroy();
      else sendError(res, err, head);
    }
  }

  return {
    handle,
    reloadSchema: () => state.reload(),
    async close() {
      await listener.unlisten().catch(() => undefined);
      await db.close();
    },
  };
}

const invalidPath = () => new RestError(404, 'PGRST125', 'Invalid path specified in request URL');

function tableNotFound(cache: SchemaCache, schema: string, name: string): RestError {
  const names = [...cache.relations.values()].filter((r) => r.schema === schema).map((r) => r.name);
  const best = bestMatch(name, names, 0.75);
  return new RestError(
    404,
    'PGRST205',
    `Could not find the table '${schema}.${name}' in the schema cache`,
    null,
    best ? `Perhaps you meant the table '${schema}.${best}'` : null,
  );
}

/** A minimal OpenAPI description: the exposed tables, views and functions. */
function root(res: ServerResponse, method: string, head: boolean, cache: SchemaCache, schema: string): void {
  if (method !== 'GET' && method !== 'HEAD') throw new RestError(405, 'PGRST117', `Unsupported HTTP method: ${method}`);
  const paths: Record<string, unknown> = { '/': {} };
  for (const r of cache.relations.values()) if (r.schema === schema) paths[`/${r.name}`] = {};
  for (const list of cache.routines.values()) if (list[0].schema === schema) paths[`/rpc/${list[0].name}`] = {};
  const doc = {
    swagger: '2.0',
    info: { title: 'PostgREST API (supabase-ai-cache local stack)', version: '12' },
    basePath: '/',
    schemes: ['http'],
    paths,
  };
  send(res, 200, { 'Content-Type': JSON_TYPE }, JSON.stringify(doc), head);
}

const headerText = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v.join(', ') : v);
