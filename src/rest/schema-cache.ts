// What PostgREST keeps in its schema cache, reduced to what this implementation needs: relations
// with columns and primary keys, callable functions with their parameters and result shape, and
// the per-role settings PostgREST applies on role switch. Loaded once, reloaded on
// `NOTIFY pgrst, 'reload schema'` and when a request names something the cache does not know.
import type { Sql } from 'postgres';
import { arrayLiteral } from './sql-builder.ts';

export interface Column {
  name: string;
  type: string;
  hasDefault: boolean;
  generated: boolean;
}
export interface Relation {
  schema: string;
  name: string;
  /** pg_class.relkind: r table, p partitioned, v view, m matview, f foreign */
  kind: string;
  columns: Map<string, Column>;
  primaryKey: string[];
  /** Column lists of primary keys and unique constraints: a foreign key on one is one-to-one. */
  uniqueKeys: string[][];
}

/** A foreign key between two exposed relations: `columns` of `table` reference `refColumns` of `refTable`. */
export interface ForeignKey {
  name: string;
  schema: string;
  table: string;
  columns: string[];
  refSchema: string;
  refTable: string;
  refColumns: string[];
}

export type ReturnShape =
  | 'void'
  | 'scalar' // single value: number, text, json, …
  | 'setof-scalar'
  | 'composite' // one row: table type, composite type, OUT params
  | 'setof-composite' // rows: setof table, returns table(...)
  | 'record'; // anonymous `returns record` without OUT params: called as a scalar

export interface RoutineParam {
  name: string;
  type: string;
  hasDefault: boolean;
  variadic: boolean;
}
export interface Routine {
  oid: string;
  schema: string;
  name: string;
  params: RoutineParam[];
  shape: ReturnShape;
  volatility: 'i' | 's' | 'v';
}

export interface SchemaCache {
  relations: Map<string, Relation>; // key: schema.name
  routines: Map<string, Routine[]>; // key: schema.name (overloads)
  roleSettings: Map<string, [string, string][]>;
  foreignKeys: ForeignKey[];
  loadedAt: number;
}

export const cacheKey = (schema: string, name: string) => schema + '\u0000' + name;

// format_type() qualifies every type outside pg_catalog under this search_path, so the names
// stay valid whatever search_path a request runs with.
const RELATIONS_SQL = `
select n.nspname as schema, c.relname as name, c.relkind::text as kind,
  coalesce((select json_agg(json_build_object('name', a.attname, 'type', format_type(a.atttypid, a.atttypmod),
      'hasDefault', a.atthasdef, 'generated', a.attgenerated <> '') order by a.attnum)
    from pg_attribute a where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped), '[]')::text as columns,
  coalesce((select json_agg(a.attname order by array_position(con.conkey, a.attnum))
    from pg_constraint con join pg_attribute a on a.attrelid = con.conrelid and a.attnum = any(con.conkey)
    where con.conrelid = c.oid and con.contype = 'p'), '[]')::text as pk,
  coalesce((select json_agg((select json_agg(a.attname order by a.attnum) from pg_attribute a
      where a.attrelid = con.conrelid and a.attnum = any(con.conkey)))
    from pg_constraint con where con.conrelid = c.oid and con.contype in ('p', 'u')), '[]')::text as uniques
from pg_class c join pg_namespace n on n.oid = c.relnamespace
where n.nspname = any($1::text[]) and c.relkind in ('r', 'p', 'v', 'm', 'f')`;

const FOREIGN_KEYS_SQL = `
select c.conname as name, n1.nspname as schema, r1.relname as table, n2.nspname as ref_schema, r2.relname as ref_table,
  (select json_agg(a.attname order by k.ord) from unnest(c.conkey) with ordinality k(attnum, ord)
    join pg_attribute a on a.attrelid = c.conrelid and a.attnum = k.attnum)::text as columns,
  (select json_agg(a.attname order by k.ord) from unnest(c.confkey) with ordinality k(attnum, ord)
    join pg_attribute a on a.attrelid = c.confrelid and a.attnum = k.attnum)::text as ref_columns
from pg_constraint c
join pg_class r1 on r1.oid = c.conrelid join pg_namespace n1 on n1.oid = r1.relnamespace
join pg_class r2 on r2.oid = c.confrelid join pg_namespace n2 on n2.oid = r2.relnamespace
where c.contype = 'f' and n1.nspname = any($1::text[]) and n2.nspname = any($1::text[])
order by c.conname`;

const ROUTINES_SQL = `
select p.oid::text as oid, n.nspname as schema, p.proname as name, p.provolatile::text as volatility,
  p.proretset as retset, (p.prorettype = 'void'::regtype) as is_void, (p.prorettype = 'record'::regtype) as is_record,
  coalesce(bt.typtype, t.typtype)::text as typtype,
  coalesce(p.proargmodes::text[] && array['o', 'b', 't'], false) as has_out,
  p.pronargdefaults as ndefaults, p.provariadic <> 0 as variadic,
  coalesce((select json_agg(json_build_object('name', coalesce(p.proargnames[a.ord], ''), 'type', format_type(a.typ, null)) order by a.ord)
    from unnest(coalesce(p.proallargtypes, p.proargtypes::oid[])) with ordinality as a(typ, ord)
    where coalesce(p.proargmodes[a.ord], 'i') in ('i', 'b', 'v')), '[]')::text as params
from pg_proc p
join pg_namespace n on n.oid = p.pronamespace
join pg_type t on t.oid = p.prorettype
left join pg_type bt on t.typtype = 'd' and bt.oid = t.typbasetype
where n.nspname = any($1::text[]) and p.prokind = 'f'`;

// Settings of the roles the authenticator can become, as PostgREST applies them on role switch;
// only those the authenticator may set, or every request for that role would fail.
const ROLE_SETTINGS_SQL = `
select r.rolname as role, split_part(cfg, '=', 1) as name, substr(cfg, strpos(cfg, '=') + 1) as value
from pg_db_role_setting s
join pg_roles r on r.oid = s.setrole
cross join lateral unnest(s.setconfig) as cfg
where s.setdatabase in (0, (select oid from pg_database where datname = current_database()))
  and pg_has_role(current_user, r.oid, 'MEMBER') and r.rolname <> current_user
order by s.setdatabase`;

const SETTABLE_SQL = `select name from pg_settings where context = 'user' or has_parameter_privilege(name, 'SET')`;

export async function loadSchemaCache(sql: Sql, schemas: string[]): Promise<SchemaCache> {
  const [rels, procs, roles, settable, fks] = await sql.begin('read only', (tx) => [
    tx.unsafe(`set local search_path to pg_catalog`),
    tx.unsafe(RELATIONS_SQL, [arrayLiteral(schemas)]),
    tx.unsafe(ROUTINES_SQL, [arrayLiteral(schemas)]),
    tx.unsafe(ROLE_SETTINGS_SQL),
    tx.unsafe(SETTABLE_SQL),
    tx.unsafe(FOREIGN_KEYS_SQL, [arrayLiteral(schemas)]),
  ]).then((r) => r.slice(1));

  const relations = new Map<string, Relation>();
  for (const r of rels) {
    const cols = JSON.parse(r.columns) as Column[];
    relations.set(cacheKey(r.schema, r.name), {
      schema: r.schema,
      name: r.name,
      kind: r.kind,
      columns: new Map(cols.map((c) => [c.name, c])),
      primaryKey: JSON.parse(r.pk),
      uniqueKeys: JSON.parse(r.uniques),
    });
  }

  const routines = new Map<string, Routine[]>();
  for (const p of procs) {
    const raw = JSON.parse(p.params) as { name: string; type: string }[];
    const ndefaults = Number(p.ndefaults);
    const params: RoutineParam[] = raw.map((a, i) => ({
      name: a.name,
      type: a.type,
      hasDefault: i >= raw.length - ndefaults,
      variadic: (p.variadic === true || p.variadic === 't') && i === raw.length - 1,
    }));
    const routine: Routine = {
      oid: p.oid,
      schema: p.schema,
      name: p.name,
      params,
      volatility: p.volatility,
      shape: returnShape(p),
    };
    const key = cacheKey(p.schema, p.name);
    const list = routines.get(key);
    if (list) list.push(routine);
    else routines.set(key, [routine]);
  }

  const settableNames = new Set(settable.map((s) => s.name as string));
  const roleSettings = new Map<string, [string, string][]>();
  const byRole = new Map<string, Map<string, string>>();
  for (const row of roles) {
    // Rows come all-databases first, so database-specific values overwrite them.
    if (!settableNames.has(row.name)) continue;
    const current = byRole.get(row.role) ?? new Map<string, string>();
    current.set(row.name, row.value);
    byRole.set(row.role, current);
  }
  for (const [role, settings] of byRole) roleSettings.set(role, [...settings]);
  const foreignKeys: ForeignKey[] = fks.map((f) => ({
    name: f.name,
    schema: f.schema,
    table: f.table,
    columns: JSON.parse(f.columns),
    refSchema: f.ref_schema,
    refTable: f.ref_table,
    refColumns: JSON.parse(f.ref_columns),
  }));
  return { relations, routines, roleSettings, foreignKeys, loadedAt: Date.now() };
}

const truthy = (v: unknown) => v === true || v === 't';

function returnShape(p: Record<string, unknown>): ReturnShape {
  const set = truthy(p.retset);
  if (truthy(p.is_void)) return 'void';
  const composite = p.typtype === 'c' || (truthy(p.is_record) && truthy(p.has_out));
  if (composite) return set ? 'setof-composite' : 'composite';
  if (truthy(p.is_record)) return set ? 'setof-composite' : 'record';
  return set ? 'setof-scalar' : 'scalar';
}

/** Cheap check used on a cache miss: does the catalog now hold something the cache lacks? */
export async function catalogDiffers(
  sql: Sql,
  cache: SchemaCache,
  kind: 'relation' | 'routine',
  schema: string,
  name: string,
): Promise<boolean> {
  if (kind === 'relation') {
    const [row] = await sql.unsafe(
      `select coalesce((select string_agg(a.attname, ',' order by a.attnum) from pg_attribute a
         where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped), '') as cols
       from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = $1 and c.relname = $2`,
      [schema, name],
    );
    const cached = cache.relations.get(cacheKey(schema, name));
    if (!row) return cached !== undefined;
    return !cached || [...cached.columns.keys()].join(',') !== row.cols;
  }
  const [row] = await sql.unsafe(
    `select coalesce(string_agg(p.oid::text, ',' order by p.oid), '') as oids from pg_proc p
     join pg_namespace n on n.oid = p.pronamespace where n.nspname = $1 and p.proname = $2 and p.prokind = 'f'`,
    [schema, name],
  );
  const cached = (cache.routines.get(cacheKey(schema, name)) ?? []).map((r) => r.oid).sort((a, b) =>
    Number(a) - Number(b)
  ).join(',');
  return cached !== row.oids;
}
