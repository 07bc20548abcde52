import { describe, expect, it } from 'vitest';
import { RestError } from '../../src/rest/errors.ts';
import { negotiate, parsePrefer, parseQuery, parseSelect } from '../../src/rest/query-params.ts';
import { filterSql, logicSql, Params } from '../../src/rest/sql-builder.ts';

const q = (s: string, rpc = false) => parseQuery(new URLSearchParams(s), rpc);

describe('query string grammar', () => {
  it('parses select items: star, alias, cast, json path, quoted names', () => {
    expect(parseSelect('*,a:b::text,data->x->>y,"my col"')).toEqual([
      { kind: 'star' },
      { kind: 'column', field: { name: 'b', path: [] }, alias: 'a', cast: 'text' },
      {
        kind: 'column',
        field: { name: 'data', path: [{ arrow: '->', key: 'x' }, { arrow: '->>', key: 'y' }] },
        alias: undefined,
        cast: undefined,
      },
      { kind: 'column', field: { name: 'my col', path: [] }, alias: undefined, cast: undefined },
    ]);
  });

  it('parses filters with not, modifiers, in-lists and fts configs', () => {
    const { where } = q('a=not.eq.1&b=in.(1,"x,y")&c=eq(any).{1,2}&d=fts(english).cat&e=is.NULL');
    expect(where.map((n) => n.kind === 'filter' && n.filter)).toEqual([
      { field: { name: 'a', path: [] }, negate: true, op: 'eq', value: '1' },
      { field: { name: 'b', path: [] }, negate: false, op: 'in', value: ['1', 'x,y'] },
      { field: { name: 'c', path: [] }, negate: false, op: 'eq', modifier: 'any', value: '{1,2}' },
      { field: { name: 'd', path: [] }, negate: false, op: 'fts', ftsConfig: 'english', value: 'cat' },
      { field: { name: 'e', path: [] }, negate: false, op: 'is', value: 'null' },
    ]);
  });

  it('builds nested logic trees into parameterised SQL', () => {
    const { where } = q('or=(a.eq.1,not.and(b.gt.2,c.like.*x*),d.in.(3,4))');
    const p = new Params();
    expect(logicSql('t', where[0], p)).toBe('(t."a" = $1 OR NOT (t."b" > $2 AND t."c" LIKE $3) OR t."d" = ANY($4))');
    expect(p.values).toEqual(['1', '2', '%x%', '{"3","4"}']);
  });

  it('keeps hostile text inside identifiers and parameters', () => {
    const p = new Params();
    const { where } = q(`${encodeURIComponent('x"; drop table t; --')}=eq.${encodeURIComponent("'; drop")}`);
    const sql = where[0].kind === 'filter' ? filterSql('t', where[0].filter, p) : '';
    expect(sql).toBe('t."x""; drop table t; --" = $1');
    expect(p.values).toEqual(["'; drop"]);
  });

  it('splits rpc GET arguments from filters', () => {
    const parsed = q('a=1&b=eq.2&v=x&v=y', true);
    expect([...parsed.rpcArgs]).toEqual([['a', ['1']], ['v', ['x', 'y']]]);
    expect(parsed.where).toHaveLength(1);
  });

  it('rejects malformed input with PGRST100', () => {
    for (const bad of ['a=foo.1', 'limit=x', 'or=(a.eq.1', 'select=a::text;drop', 'a=is.maybe']) {
      expect(() => q(bad), bad).toThrowError(RestError);
      try {
        q(bad);
      } catch (e) {
        expect((e as RestError).code).toBe('PGRST100');
      }
    }
  });
});

describe('headers', () => {
  it('parses Prefer and validates it under handling=strict', () => {
    expect(parsePrefer('return=representation, count=exact,resolution=merge-duplicates')).toMatchObject({
      return: 'representation',
      count: 'exact',
      resolution: 'merge-duplicates',
      applied: ['return=representation', 'count=exact', 'resolution=merge-duplicates'],
    });
    expect(() => parsePrefer('handling=strict, return=everything')).toThrowError(/Invalid preferences/);
  });

  it('negotiates json, singular objects and refuses the rest', () => {
    expect(negotiate(undefined).kind).toBe('json');
    expect(negotiate('application/vnd.pgrst.object+json;nulls=stripped')).toMatchObject({
      kind: 'object',
      stripNulls: true,
    });
    expect(negotiate('text/html, */*;q=0.8').kind).toBe('json');
    expect(() => negotiate('text/csv')).toThrowError(/None of these media types are available: text\/csv/);
  });
});
