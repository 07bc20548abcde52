// Resource embedding: `select=*,messages(*)` joins related rows through foreign keys, as
// PostgREST's lateral joins do. Many-to-one (and one-to-one) embeds become an object or null,
// one-to-many embeds an array; `!inner` keeps only parents with a match; `!hint` picks a
// foreign key by constraint or column name. Many-to-many through junction tables, spreads and
// embedding from views or function results are refused as not supported.
import type { RequestContext } from './context.ts';
import { notSupported, RestError } from './errors.ts';
import { bestMatch } from './fuzzy.ts';
import type { EmbedItem, EmbedParams, SelectItem } from './query-params.ts';
import { cacheKey, type ForeignKey, type Relation } from './schema-cache.ts';
import { ident, limitOffsetSql, logicSql, orderSql, Params, qualified, selectItemSql } from './sql-builder.ts';

export interface SelectPlan {
  /** Select list of the relation's own query. */
  items: string;
  /** LATERAL joins feeding the embedded items; empty without embeds. */
  joins: string;
  /** Some embed is `!inner`: it filters parents, so counts must include the joins. */
  filtersParents: boolean;
}

interface Relationship {
  target: Relation;
  toOne: boolean;
  pairs: [string, string][];
}

class Planner {
  private n = 0;
  readonly consumed = new Set<string>();
  constructor(private readonly ctx: RequestContext, private readonly p: Params) {}

  plan(rel: Relation, qualifier: string, items: SelectItem[] | null, path: string): SelectPlan {
    if (!items) return { items: qualifier + '.*', joins: '', filtersParents: false };
    const list: string[] = [];
    const joins: string[] = [];
    let filtersParents = false;
    for (const item of items) {
      if (item.kind !== 'embed') {
        list.push(selectItemSql(item, qualifier, this.p));
        continue;
      }
      const embedded = this.embed(rel, qualifier, item, path);
      if (embedded.expr) list.push(embedded.expr);
      joins.push(embedded.join);
      filtersParents ||= item.inner;
    }
    return {
      items: list.length ? list.join(', ') : 'NULL AS pgrst_none',
      joins: joins.map((j) => ' ' + j).join(''),
      filtersParents,
    };
  }

  private embed(
    parent: Relation,
    parentQualifier: string,
    item: EmbedItem,
    path: string,
  ): { expr: string | null; join: string } {
    const rel = findRelationship(this.ctx, parent, item);
    const name = item.alias ?? item.target;
    const embedPath = path ? `${path}.${name}` : name;
    const opts: EmbedParams = this.ctx.params.embedded.get(embedPath) ?? { where: [], order: [] };
    this.consumed.add(embedPath);
    const n = ++this.n;
    const alias = `pgrst_t${n}`;
    const agg = `pgrst_a${n}`;
    const sub = this.plan(rel.target, alias, item.select.length ? item.select : null, embedPath);
    const innerItems = item.select.length ? sub.items : '1 AS pgrst_exists';
    const conditions = rel.pairs.map(([parentCol, targetCol]) =>
      `${alias}.${ident(targetCol)} = ${parentQualifier}.${ident(parentCol)}`
    );
    for (const node of opts.where) conditions.push(logicSql(alias, node, this.p));
    const inner =
      `SELECT ${innerItems} FROM ${qualified(rel.target.schema, rel.target.name)} AS ${alias}${sub.joins} ` +
      `WHERE ${conditions.join(' AND ')}${orderSql(alias, opts.order, this.p)}${
        limitOffsetSql(opts.limit, opts.offset ?? 0, this.p)
      }`;
    const joinType = item.inner ? 'INNER' : 'LEFT';
    if (rel.toOne) {
      return {
        expr: item.select.length ? `row_to_json(${agg}.*) AS ${ident(name)}` : null,
        join: `${joinType} JOIN LATERAL (${inner}) AS ${agg} ON TRUE`,
      };
    }
    return {
      expr: item.select.length ? `COALESCE(${agg}.${agg}, '[]') AS ${ident(name)}` : null,
      join: `${joinType} JOIN LATERAL (SELECT json_agg(${agg}) AS ${agg} FROM (${inner}) AS ${agg}) AS ${agg} ON ${
        item.inner ? `${agg} IS NOT NULL` : 'TRUE'
      }`,
    };
  }
}

/** Plans `items` for `rel` read through `qualifier`; embedded filters naming no embed are a 400. */
export function planSelect(
  ctx: RequestContext,
  rel: Relation,
  qualifier: string,
  items: SelectItem[] | null,
  p: Params,
): SelectPlan {
  const planner = new Planner(ctx, p);
  const plan = planner.plan(rel, qualifier, items, '');
  for (const path of ctx.params.embedded.keys()) {
    if (!planner.consumed.has(path)) {
      throw new RestError(
        400,
        'PGRST108',
        `'${path}' is not an embedded resource in this request`,
        null,
        `Verify that '${path}' is included in the 'select' query parameter.`,
      );
    }
  }
  const embedNames = new Set(
    (items ?? []).filter((i): i is EmbedItem => i.kind === 'embed').map((i) => i.alias ?? i.target),
  );
  for (const node of ctx.params.where) {
    if (node.kind === 'filter' && embedNames.has(node.filter.field.name)) {
      throw notSupported(`Filtering on the embedded resource '${node.filter.field.name}'`);
    }
  }
  return plan;
}

function findRelationship(ctx: RequestContext, parent: Relation, item: EmbedItem): Relationship {
  const cache = ctx.cache;
  const { target, hint } = item;
  const candidates: { fk: ForeignKey; manyToOne: boolean }[] = [];
  for (const fk of cache.foreignKeys) {
    const onParent = fk.schema === parent.schema && fk.table === parent.name;
    if (
      onParent &&
      ((fk.refSchema === parent.schema && fk.refTable === target) ||
        (fk.columns.length === 1 && fk.columns[0] === target))
    ) {
      candidates.push({ fk, manyToOne: true });
    }
    if (
      fk.refSchema === parent.schema && fk.refTable === parent.name && fk.schema === parent.schema &&
      fk.table === target
    ) {
      candidates.push({ fk, manyToOne: false });
    }
  }
  const matching = hint === undefined
    ? candidates
    : candidates.filter(({ fk }) => fk.name === hint || fk.columns.includes(hint) || fk.refColumns.includes(hint));
  if (matching.length === 0) {
    if (
      !cache.relations.has(cacheKey(parent.schema, target)) && candidates.length === 0 && parent.kind !== 'r' &&
      parent.kind !== 'p'
    ) {
      throw notSupported(`Embedding from the view '${parent.name}'`);
    }
    const related = new Set<string>();
    for (const fk of cache.foreignKeys) {
      if (fk.table === parent.name && fk.schema === parent.schema) related.add(fk.refTable);
      if (fk.refTable === parent.name && fk.refSchema === parent.schema) related.add(fk.table);
    }
    const best = bestMatch(target, related, 0.5);
    throw new RestError(
      400,
      'PGRST200',
      `Could not find a relationship between '${parent.name}' and '${target}' in the schema cache`,
      `Searched for a foreign key relationship between '${parent.name}' and '${target}'${
        hint ? ` using the hint '${hint}'` : ''
      } in the schema '${parent.schema}', but no matches were found.`,
      best && best !== target ? `Perhaps you meant '${best}' instead of '${target}'.` : null,
    );
  }
  if (matching.length > 1) {
    const describe = ({ fk, manyToOne }: { fk: ForeignKey; manyToOne: boolean }) => ({
      cardinality: manyToOne ? 'many-to-one' : 'one-to-many',
      embedding: `${parent.name} with ${manyToOne ? fk.refTable : fk.table}`,
      relationship: `${fk.name} using ${fk.table}(${fk.columns.join(', ')}) and ${fk.refTable}(${
        fk.refColumns.join(', ')
      })`,
    });
    throw new RestError(
      300,
      'PGRST201',
      `Could not embed because more than one relationship was found for '${parent.name}' and '${target}'`,
      matching.map(describe),
      `Try changing '${target}' to one of the following: ${
        matching.map(({ fk }) => `'${target}!${fk.name}'`).join(', ')
      }. Find the desired relationship in the 'details' key.`,
    );
  }
  const { fk, manyToOne } = matching[0];
  const targetRel = cache.relations.get(
    cacheKey(manyToOne ? fk.refSchema : fk.schema, manyToOne ? fk.refTable : fk.table),
  );
  if (!targetRel) {
    throw new RestError(
      400,
      'PGRST200',
      `Could not find a relationship between '${parent.name}' and '${target}' in the schema cache`,
    );
  }
  if (manyToOne) {
    return { target: targetRel, toOne: true, pairs: fk.columns.map((c, i) => [c, fk.refColumns[i]]) };
  }
  const sorted = (cols: string[]) => [...cols].sort().join('\u0000');
  const oneToOne = targetRel.uniqueKeys.some((k) => sorted(k) === sorted(fk.columns));
  return { target: targetRel, toOne: oneToOne, pairs: fk.refColumns.map((c, i) => [c, fk.columns[i]]) };
}
