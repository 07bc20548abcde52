// Turns parsed request parts into SQL fragments. Identifiers are always double-quoted and every
// client-supplied value travels as a bound parameter (untyped, so Postgres infers the column's
// type as PostgREST relies on), which is what keeps filters and columns injection-proof.
import { notSupported, queryParamError } from './errors.ts';
import { type Field, type Filter, type LogicNode, OPERATORS, type OrderTerm, type SelectItem } from './query-params.ts';

export class Params {
  readonly values: (string | null)[] = [];
  add(value: string | null): string {
    this.values.push(value);
    return '$' + this.values.length;
  }
}

export const ident = (name: string): string => '"' + name.replace(/"/g, '""') + '"';
export const qualified = (schema: string, name: string): string => ident(schema) + '.' + ident(name);

/** `qualifier."col"->$1::text->>$2::text`; numeric keys index arrays. */
export function fieldSql(qualifier: string, field: Field, params: Params): string {
  let sql = (qualifier ? qualifier + '.' : '') + ident(field.name);
  for (const step of field.path) {
    sql += step.arrow +
      (typeof step.key === 'number' ? params.add(String(step.key)) + '::int' : params.add(step.key) + '::text');
  }
  return sql;
}

/** PostgREST names a json path selection after its last key. */
export function defaultAlias(field: Field): string {
  const last = field.path[field.path.length - 1];
  return last === undefined || typeof last.key === 'number' ? field.name : last.key;
}

/** One star or column select item; embedded resources are embedding.ts's business. */
export function selectItemSql(item: SelectItem, qualifier: string, params: Params): string {
  if (item.kind === 'star') return qualifier + '.*';
  if (item.kind === 'embed') throw notSupported(`Resource embedding ('${item.target}(...)') on function results`);
  let sql = fieldSql(qualifier, item.field, params);
  if (item.cast) sql = `${sql}::${item.cast}`;
  const alias = item.alias ??
    (item.field.path.length ? defaultAlias(item.field) : item.cast ? item.field.name : undefined);
  return alias === undefined ? sql : `${sql} AS ${ident(alias)}`;
}

export function selectListSql(items: SelectItem[] | null, qualifier: string, params: Params): string {
  if (!items || items.length === 0) return qualifier + '.*';
  return items.map((item) => selectItemSql(item, qualifier, params)).join(', ');
}

/** Postgres array literal for `in.(…)` lists, bound as one parameter. */
export function arrayLiteral(values: string[]): string {
  return '{' + values.map((v) => '"' + v.replace(/\\/g, '\\\\').replace(/"/g, '\\"') + '"').join(',') + '}';
}

const FTS_FUNCTIONS: Record<string, string> = {
  fts: 'to_tsquery',
  plfts: 'plainto_tsquery',
  phfts: 'phraseto_tsquery',
  wfts: 'websearch_to_tsquery',
};

export function filterSql(qualifier: string, f: Filter, params: Params): string {
  const col = fieldSql(qualifier, f.field, params);
  let sql: string;
  const value = f.value;
  switch (f.op) {
    case 'in':
      sql = `${col} = ANY(${params.add(arrayLiteral(value as string[]))})`;
      break;
    case 'is':
      sql = `${col} IS ${
        ({ null: 'NULL', not_null: 'NOT NULL', true: 'TRUE', false: 'FALSE', unknown: 'UNKNOWN' } as Record<
          string,
          string
        >)[value as string]
      }`;
      break;
    case 'fts':
    case 'plfts':
    case 'phfts':
    case 'wfts': {
      const fn = FTS_FUNCTIONS[f.op];
      const q = params.add(value as string);
      sql = f.ftsConfig !== undefined
        ? `${col} @@ ${fn}(${params.add(f.ftsConfig)}::regconfig, ${q})`
        : `${col} @@ ${fn}(${q})`;
      break;
    }
    default: {
      const op = OPERATORS[f.op];
      if (!op) {
        throw queryParamError(`"failed to parse filter (${f.op})" (line 1, column 1)`, `unknown operator "${f.op}"`);
      }
      let v = value as string;
      if (f.op === 'like' || f.op === 'ilike') v = v.replace(/\*/g, '%');
      sql = f.modifier ? `${col} ${op} ${f.modifier.toUpperCase()}(${params.add(v)})` : `${col} ${op} ${params.add(v)}`;
    }
  }
  return f.negate ? `NOT (${sql})` : sql;
}

export function logicSql(qualifier: string, node: LogicNode, params: Params): string {
  if (node.kind === 'filter') return filterSql(qualifier, node.filter, params);
  const inner = node.children.length === 0
    ? (node.op === 'and' ? 'TRUE' : 'FALSE')
    : node.children.map((c) => logicSql(qualifier, c, params)).join(node.op === 'and' ? ' AND ' : ' OR ');
  return `${node.negate ? 'NOT ' : ''}(${inner})`;
}

export function whereSql(qualifier: string, where: LogicNode[], params: Params): string {
  if (where.length === 0) return '';
  return ' WHERE ' + where.map((n) => logicSql(qualifier, n, params)).join(' AND ');
}

export function orderSql(qualifier: string, order: OrderTerm[], params: Params): string {
  if (order.length === 0) return '';
  return ' ORDER BY ' +
    order.map((t) =>
      fieldSql(qualifier, t.field, params) + (t.dir ? ' ' + t.dir.toUpperCase() : '') +
      (t.nulls ? ' NULLS ' + t.nulls.toUpperCase() : '')
    ).join(', ');
}

/** Bound rather than inlined: every distinct page would otherwise be a new prepared statement. */
export function limitOffsetSql(limit: number | undefined, offset: number, params: Params): string {
  return (limit !== undefined ? ` LIMIT ${params.add(String(limit))}::bigint` : '') +
    (offset > 0 ? ` OFFSET ${params.add(String(offset))}::bigint` : '');
}

export const RESPONSE_GUCS = "nullif(current_setting('response.headers', true), '') AS response_headers, " +
  "nullif(current_setting('response.status', true), '') AS response_status";
