// Parses PostgREST's URL grammar (select, horizontal filters, logic trees, order, limit/offset,
// columns, on_conflict) and its Prefer/Accept/Range headers into plain data. No SQL here.
import { notSupported, queryParamError, RestError } from './errors.ts';

export interface PathStep {
  arrow: '->' | '->>';
  key: string | number;
}
export interface Field {
  name: string;
  path: PathStep[];
}

export type SelectItem =
  | { kind: 'star' }
  | { kind: 'column'; field: Field; alias?: string; cast?: string }
  | EmbedItem;

/** `alias:target!hint!inner(select…)`: a related resource joined through a foreign key. */
export interface EmbedItem {
  kind: 'embed';
  target: string;
  alias?: string;
  /** Foreign key constraint or column name choosing among several relationships. */
  hint?: string;
  inner: boolean;
  select: SelectItem[];
}

/** Filters, order and paging addressed to an embedded resource (`rel.col=eq.1`, `rel.order=…`). */
export interface EmbedParams {
  where: LogicNode[];
  order: OrderTerm[];
  limit?: number;
  offset?: number;
}

export interface Filter {
  field: Field;
  negate: boolean;
  op: string;
  modifier?: 'any' | 'all';
  ftsConfig?: string;
  /** For `in` the parsed list, otherwise the raw value. */
  value: string | string[];
}

export type LogicNode =
  | { kind: 'filter'; filter: Filter }
  | { kind: 'logic'; op: 'and' | 'or'; negate: boolean; children: LogicNode[] };

export interface OrderTerm {
  field: Field;
  dir?: 'asc' | 'desc';
  nulls?: 'first' | 'last';
}

export interface QueryParams {
  select: SelectItem[] | null;
  where: LogicNode[];
  order: OrderTerm[];
  limit?: number;
  offset?: number;
  columns?: string[];
  onConflict?: string[];
  /** GET/HEAD on /rpc: the query params that are function arguments rather than filters. */
  rpcArgs: Map<string, string[]>;
  /** Keyed by the embed path, aliases or names joined with '.' (`messages`, `messages.author`). */
  embedded: Map<string, EmbedParams>;
}

export const OPERATORS: Record<string, string> = {
  eq: '=',
  neq: '<>',
  gt: '>',
  gte: '>=',
  lt: '<',
  lte: '<=',
  like: 'LIKE',
  ilike: 'ILIKE',
  match: '~',
  imatch: '~*',
  cs: '@>',
  cd: '<@',
  ov: '&&',
  sl: '<<',
  sr: '>>',
  nxr: '&<',
  nxl: '&>',
  adj: '-|-',
  isdistinct: 'IS DISTINCT FROM',
};
const QUANTIFIABLE = new Set(['eq', 'neq', 'gt', 'gte', 'lt', 'lte', 'like', 'ilike', 'match', 'imatch']);
const FTS = new Set(['fts', 'plfts', 'phfts', 'wfts']);
const ALL_OPS = [...Object.keys(OPERATORS), 'in', 'is', ...FTS];
const OPS_EXPECTED = `expecting "not" or operator (${ALL_OPS.join(', ')})`;

// ---------- fields and identifiers ----------

/** Reads `"quoted"` or bare text up to one of `stops`; returns [value, rest]. */
function readIdent(s: string, stops: RegExp): [string, string] {
  if (s.startsWith('"')) {
    let i = 1;
    let out = '';
    while (i < s.length) {
      if (s[i] === '\\' && i + 1 < s.length) {
        out += s[i + 1];
        i += 2;
        continue;
      }
      if (s[i] === '"') return [out, s.slice(i + 1)];
      out += s[i++];
    }
    throw queryParamError(
      `"failed to parse identifier (${s})" (line 1, column 1)`,
      'unexpected end of input expecting closing quote',
    );
  }
  const m = stops.exec(s);
  const end = m ? m.index : s.length;
  return [s.slice(0, end), s.slice(end)];
}

/** `col`, `"my col"`, `data->a->>b`, `arr->0`. Returns the field and whatever follows (e.g. `::cast`). */
export function parseField(s: string, stopAtDot = false): [Field, string] {
  const stops = stopAtDot ? /->|::|\./ : /->|::/;
  const [rawName, rest0] = readIdent(s, stops);
  const name = rawName.trim();
  if (name === '') {
    throw queryParamError(
      `"failed to parse field (${s})" (line 1, column 1)`,
      'unexpected end of input expecting field name (* or [a..z0..9_$])',
    );
  }
  const path: PathStep[] = [];
  let rest = rest0;
  while (rest.startsWith('->')) {
    const arrow = rest.startsWith('->>') ? '->>' : '->';
    const [key, after] = readIdent(rest.slice(arrow.length), stops);
    if (key === '') {
      throw queryParamError(
        `"failed to parse json path (${s})" (line 1, column 1)`,
        'unexpected end of input expecting key',
      );
    }
    path.push({ arrow, key: /^-?\d+$/.test(key) ? Number(key) : key });
    rest = after;
  }
  return [{ name, path }, rest];
}

function parseSimpleField(s: string): Field {
  const [field, rest] = parseField(s);
  if (rest !== '') {
    throw queryParamError(
      `"failed to parse field (${s})" (line 1, column ${s.length - rest.length + 1})`,
      `unexpected "${rest[0]}"`,
    );
  }
  return field;
}

/** Splits on `sep` at nesting depth 0, honouring double quotes and parentheses. */
export function splitTopLevel(s: string, sep = ','): string[] {
  const out: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (quoted) {
      if (c === '\\') i++;
      else if (c === '"') quoted = false;
    } else if (c === '"') quoted = true;
    else if (c === '(' || c === '{') depth++;
    else if (c === ')' || c === '}') depth--;
    else if (c === sep && depth === 0) {
      out.push(s.slice(start, i));
      start = i + 1;
    }
  }
  out.push(s.slice(start));
  return out;
}

// ---------- select ----------

export function parseSelect(raw: string): SelectItem[] {
  if (raw.trim() === '') return [{ kind: 'star' }];
  return splitTopLevel(raw).map((item) => parseSelectItem(item.trim(), raw));
}

function parseSelectItem(item: string, whole: string): SelectItem {
  if (item === '') {
    throw queryParamError(
      `"failed to parse select parameter (${whole})" (line 1, column ${whole.length + 1})`,
      'unexpected end of input expecting field name (* or [a..z0..9_$])',
    );
  }
  if (item.startsWith('...')) throw notSupported('Spreading embedded resources (`...rel(...)`)');
  let alias: string | undefined;
  let rest = item;
  const aliasMatch = /^("(?:[^"\\]|\\.)*"|[^:"()]+):(?!:)/.exec(item);
  if (aliasMatch) {
    alias = aliasMatch[1].startsWith('"') ? readIdent(aliasMatch[1], /$/)[0] : aliasMatch[1].trim();
    rest = item.slice(aliasMatch[0].length).trim();
  }
  if (rest === '*') {
    if (alias) {
      throw queryParamError(`"failed to parse select parameter (${whole})" (line 1, column 1)`, 'unexpected "*"');
    }
    return { kind: 'star' };
  }
  // `rel(cols)`, `rel!hint!inner(cols)`, `count()`, `col.sum()`: embedding and aggregates.
  const parenAt = rest.startsWith('"') ? rest.indexOf('(', readIdent(rest, /$/)[0].length + 2) : rest.indexOf('(');
  if (parenAt !== -1) {
    const head = rest.slice(0, parenAt);
    if (/(^|\.)(count|sum|avg|max|min)$/.test(head) && rest.slice(parenAt).startsWith('()')) {
      throw new RestError(400, 'PGRST123', 'Use of aggregate functions is not allowed');
    }
    if (!rest.endsWith(')')) {
      throw queryParamError(`"failed to parse select parameter (${whole})" (line 1, column 1)`, 'expecting ")"');
    }
    const [target, hintsText] = readIdent(head, /!/);
    let hint: string | undefined;
    let inner = false;
    for (const h of hintsText.split('!').slice(1)) {
      if (h === 'inner') inner = true;
      else if (h === 'left') inner = false;
      else if (h !== '' && hint === undefined) hint = h;
      else {throw queryParamError(
          `"failed to parse select parameter (${whole})" (line 1, column 1)`,
          `unexpected "!${h}"`,
        );}
    }
    if (target.trim() === '' || target.includes('->')) {
      throw queryParamError(
        `"failed to parse select parameter (${whole})" (line 1, column 1)`,
        'expecting an embedded resource name',
      );
    }
    const innerText = rest.slice(parenAt + 1, -1);
    const select = innerText.trim() === '' ? [] : splitTopLevel(innerText).map((i) => parseSelectItem(i.trim(), whole));
    return { kind: 'embed', target: target.trim(), alias, hint, inner, select };
  }
  const [field, after] = parseField(rest);
  let cast: string | undefined;
  if (after.startsWith('::')) {
    cast = after.slice(2).trim();
    // Cast targets are emitted verbatim, so only plain type names (optionally arrays) get through.
    if (!/^[A-Za-z_][A-Za-z0-9_]*(\[\])?$/.test(cast)) {
      throw queryParamError(
        `"failed to parse select parameter (${whole})" (line 1, column 1)`,
        `unexpected cast "${cast}"`,
      );
    }
  } else if (after !== '') {
    throw queryParamError(`"failed to parse select parameter (${whole})" (line 1, column 1)`, `unexpected "${after}"`);
  }
  return { kind: 'column', field, alias, cast };
}

// ---------- filters ----------

/** True when a query value is written as a filter (`eq.1`, `not.in.(…)`), used to tell RPC args apart. */
export function looksLikeFilter(value: string): boolean {
  const v = value.startsWith('not.') ? value.slice(4) : value;
  const m = /^([a-z]+)[.(]/.exec(v);
  return !!m && ALL_OPS.includes(m[1]);
}

/** Parses `[not.]op[(modifier)].value` applied to `field`. */
export function parseFilterValue(field: Field, expr: string, fieldText: string): Filter {
  const fail = (details: string): never => {
    throw queryParamError(`"failed to parse filter (${expr})" (line 1, column 1)`, details);
  };
  let rest = expr;
  let negate = false;
  if (rest.startsWith('not.')) {
    negate = true;
    rest = rest.slice(4);
  }
  const m = /^([a-z]+)(?:\(([^)]*)\))?\./.exec(rest);
  if (!m || !ALL_OPS.includes(m[1])) fail(`unexpected "${rest.slice(0, 1) || 'end of input'}" ${OPS_EXPECTED}`);
  const [whole, op, paren] = m as RegExpExecArray;
  const value = rest.slice(whole.length);
  const filter: Filter = { field, negate, op, value };
  if (paren !== undefined) {
    if (FTS.has(op)) filter.ftsConfig = paren;
    else if (QUANTIFIABLE.has(op) && (paren === 'any' || paren === 'all')) filter.modifier = paren;
    else fail(`unexpected "(" on "${fieldText}"`);
  }
  if (op === 'in') filter.value = parseInList(value, expr);
  else if (op === 'is') {
    const v = value.toLowerCase();
    if (!['null', 'not_null', 'true', 'false', 'unknown'].includes(v)) {
      fail(`unexpected "${value}" expecting null or trilean value (unknown, true, false)`);
    }
    filter.value = v;
  } else if (filter.modifier && !(value.startsWith('{') && value.endsWith('}'))) {
    fail(`unexpected "${value.slice(0, 1) || 'end of input'}" expecting "{"`);
  }
  return filter;
}

/** `(a,"b,c",d)` → ['a', 'b,c', 'd'] */
function parseInList(value: string, expr: string): string[] {
  if (!value.startsWith('(') || !value.endsWith(')')) {
    throw queryParamError(
      `"failed to parse filter (${expr})" (line 1, column 1)`,
      `unexpected "${value.slice(0, 1) || 'end of input'}" expecting "("`,
    );
  }
  const inner = value.slice(1, -1);
  if (inner === '') return [];
  return splitTopLevel(inner).map((el) => {
    if (el.startsWith('"') && el.endsWith('"') && el.length >= 2) return el.slice(1, -1).replace(/\\(.)/g, '$1');
    return el;
  });
}

// ---------- logic trees: or=(a.eq.1,and(b.gt.2,c.is.null)) ----------

export function parseLogicTree(op: 'and' | 'or', negate: boolean, raw: string, key: string): LogicNode {
  if (!raw.startsWith('(') || !raw.endsWith(')')) {
    throw queryParamError(
      `"failed to parse logic tree (${raw})" (line 1, column 1)`,
      `unexpected "${raw.slice(0, 1) || 'end of input'}" expecting "("`,
    );
  }
  const children = splitTopLevel(raw.slice(1, -1)).map((part) => parseLogicItem(part, key, raw));
  return { kind: 'logic', op, negate, children };
}

function parseLogicItem(part: string, key: string, whole: string): LogicNode {
  const nested = /^(not\.)?(and|or)(\(.*\))$/s.exec(part);
  if (nested) return parseLogicTree(nested[2] as 'and' | 'or', !!nested[1], nested[3], key);
  // field.op.value — the field may hold json arrows but not dots.
  const [field, rest] = parseField(part, true);
  if (!rest.startsWith('.')) {
    throw queryParamError(
      `"failed to parse logic tree (${whole})" (line 1, column 1)`,
      `unexpected "${rest.slice(0, 1) || 'end of input'}" expecting "."`,
    );
  }
  const filter = parseFilterValue(field, rest.slice(1), part);
  if (typeof filter.value === 'string') filter.value = unquoteLogicValue(filter.value);
  return { kind: 'filter', filter };
}

/** Values inside logic trees may be double-quoted to carry `,` `(` `)`. */
function unquoteLogicValue(v: string): string {
  if (v.length >= 2 && v.startsWith('"') && v.endsWith('"')) return v.slice(1, -1).replace(/\\(.)/g, '$1');
  return v;
}

// ---------- order ----------

export function parseOrder(raw: string): OrderTerm[] {
  return splitTopLevel(raw).filter((t) => t.trim() !== '').map((term) => {
    if (/\(/.test(term)) throw notSupported(`Ordering by a related resource ('${term}')`);
    const parts = term.split('.');
    const t: OrderTerm = { field: { name: '', path: [] } };
    while (parts.length > 1) {
      const last = parts[parts.length - 1];
      if ((last === 'asc' || last === 'desc') && !t.dir) t.dir = last;
      else if ((last === 'nullsfirst' || last === 'nullslast') && !t.nulls) {
        t.nulls = last === 'nullsfirst' ? 'first' : 'last';
      } else break;
      parts.pop();
    }
    t.field = parseSimpleField(parts.join('.'));
    return t;
  });
}

// ---------- whole query string ----------

function parseNonNegative(name: string, raw: string): number {
  if (!/^\d+$/.test(raw)) {
    throw queryParamError(
      `"failed to parse ${name} parameter (${raw})" (line 1, column 1)`,
      `unexpected "${raw.slice(0, 1)}" expecting digit`,
    );
  }
  return Number(raw);
}

export function parseColumnList(raw: string): string[] {
  return splitTopLevel(raw).map((c) => {
    const t = c.trim();
    return t.startsWith('"') ? readIdent(t, /$/)[0] : t;
  }).filter((c) => c !== '');
}

/** `isRpcRead`: GET/HEAD on /rpc, where params without an operator are function arguments. */
export function parseQuery(query: URLSearchParams, isRpcRead: boolean): QueryParams {
  const out: QueryParams = { select: null, where: [], order: [], rpcArgs: new Map(), embedded: new Map() };
  const embed = (path: string): EmbedParams => {
    let e = out.embedded.get(path);
    if (!e) out.embedded.set(path, e = { where: [], order: [] });
    return e;
  };
  for (const [key, value] of query) {
    switch (key) {
      case 'select':
        out.select = parseSelect(value);
        continue;
      case 'order':
        out.order.push(...parseOrder(value));
        continue;
      case 'limit':
        out.limit = parseNonNegative('limit', value);
        continue;
      case 'offset':
        out.offset = parseNonNegative('offset', value);
        continue;
      case 'columns':
        out.columns = parseColumnList(value);
        continue;
      case 'on_conflict':
        out.onConflict = parseColumnList(value);
        continue;
      case 'apikey':
        continue;
      case 'and':
      case 'or':
      case 'not.and':
      case 'not.or': {
        const negate = key.startsWith('not.');
        out.where.push(parseLogicTree(key.replace('not.', '') as 'and' | 'or', negate, value, key));
        continue;
      }
    }
    if (isRpcRead && !looksLikeFilter(value)) {
      const list = out.rpcArgs.get(key);
      if (list) list.push(value);
      else out.rpcArgs.set(key, [value]);
      continue;
    }
    // `rel.order`, `rel.limit`, `rel.or`, `rel.sub.col=...` address embedded resources.
    if (!key.startsWith('"') && !key.includes('->') && key.includes('.')) {
      const logic = /^(.*)\.(not\.)?(and|or)$/.exec(key);
      if (logic && logic[1] !== 'not') {
        embed(logic[1]).where.push(parseLogicTree(logic[3] as 'and' | 'or', !!logic[2], value, key));
        continue;
      }
      const dot = key.lastIndexOf('.');
      const path = key.slice(0, dot);
      const target = key.slice(dot + 1);
      if (target === 'order') embed(path).order.push(...parseOrder(value));
      else if (target === 'limit') embed(path).limit = parseNonNegative('limit', value);
      else if (target === 'offset') embed(path).offset = parseNonNegative('offset', value);
      else embed(path).where.push({ kind: 'filter', filter: parseFilterValue(parseSimpleField(target), value, key) });
      continue;
    }
    const field = parseSimpleField(key);
    out.where.push({ kind: 'filter', filter: parseFilterValue(field, value, key) });
  }
  return out;
}

// ---------- headers ----------

export interface Preferences {
  return?: 'minimal' | 'headers-only' | 'representation';
  count?: 'exact' | 'planned' | 'estimated';
  resolution?: 'merge-duplicates' | 'ignore-duplicates';
  missing?: 'default' | 'null';
  params?: 'single-object';
  handling?: 'strict' | 'lenient';
  timezone?: string;
  maxAffected?: number;
  tx?: 'commit' | 'rollback';
  /** The accepted ones, echoed back in `Preference-Applied`. */
  applied: string[];
}

const PREF_VALUES: Record<string, string[] | null> = {
  return: ['minimal', 'headers-only', 'representation'],
  count: ['exact', 'planned', 'estimated'],
  resolution: ['merge-duplicates', 'ignore-duplicates'],
  missing: ['default', 'null'],
  params: ['single-object'],
  handling: ['strict', 'lenient'],
  tx: ['commit', 'rollback'],
  timezone: null,
  'max-affected': null,
};

export function parsePrefer(header: string | undefined): Preferences {
  const prefs: Preferences = { applied: [] };
  if (!header) return prefs;
  const invalid: string[] = [];
  for (const raw of header.split(/[,;]/)) {
    const item = raw.trim();
    if (item === '') continue;
    const eq = item.indexOf('=');
    const name = eq === -1 ? item : item.slice(0, eq).trim();
    const value = eq === -1 ? '' : item.slice(eq + 1).trim();
    const allowed = PREF_VALUES[name];
    if (allowed === undefined || (allowed && !allowed.includes(value))) {
      invalid.push(item);
      continue;
    }
    if (name === 'max-affected') {
      if (!/^\d+$/.test(value)) {
        invalid.push(item);
        continue;
      }
      prefs.maxAffected = Number(value);
    } else if (name === 'timezone') {
      prefs.timezone = value;
    } else {
      (prefs as unknown as Record<string, string>)[name] = value;
    }
    // tx is accepted but, as with PostgREST's default db-tx-end=commit, never overrides the commit.
    if (name !== 'tx' && name !== 'params') prefs.applied.push(`${name}=${value}`);
  }
  if (prefs.handling === 'strict' && invalid.length) {
    throw new RestError(
      400,
      'PGRST122',
      'Invalid preferences given with handling=strict',
      `Invalid preferences: ${invalid.join(', ')}`,
    );
  }
  return prefs;
}

export type MediaKind = 'json' | 'object' | 'openapi';
export interface MediaChoice {
  kind: MediaKind;
  stripNulls: boolean;
  contentType: string;
}

/** Picks the response representation from Accept; unsupported formats are a 406 (PGRST107). */
export function negotiate(accept: string | undefined, allowOpenApi = false): MediaChoice {
  if (!accept || accept.trim() === '') {
    return { kind: 'json', stripNulls: false, contentType: 'application/json; charset=utf-8' };
  }
  const ranges = accept.split(',').map((r, i) => {
    const [type, ...params] = r.trim().split(';').map((x) => x.trim());
    const q = params.find((p) => p.startsWith('q='));
    return { type: type.toLowerCase(), params, q: q ? Number(q.slice(2)) : 1, i };
  }).filter((r) => r.q > 0).sort((a, b) => b.q - a.q || a.i - b.i);
  for (const r of ranges) {
    const stripNulls = r.params.some((p) => p.replace(/\s/g, '').toLowerCase() === 'nulls=stripped');
    switch (r.type) {
      case 'application/json':
      case 'application/*':
      case '*/*':
        return { kind: 'json', stripNulls: false, contentType: 'application/json; charset=utf-8' };
      case 'application/vnd.pgrst.array+json':
      case 'application/vnd.pgrst.array':
        return {
          kind: 'json',
          stripNulls,
          contentType: `application/vnd.pgrst.array+json${stripNulls ? ';nulls=stripped' : ''}; charset=utf-8`,
        };
      case 'application/vnd.pgrst.object+json':
      case 'application/vnd.pgrst.object':
        return {
          kind: 'object',
          stripNulls,
          contentType: `application/vnd.pgrst.object+json${stripNulls ? ';nulls=stripped' : ''}; charset=utf-8`,
        };
      case 'application/openapi+json':
        if (allowOpenApi) {
          return { kind: 'openapi', stripNulls: false, contentType: 'application/openapi+json; charset=utf-8' };
        }
    }
  }
  throw new RestError(
    406,
    'PGRST107',
    `None of these media types are available: ${ranges.map((r) => r.type).join(', ')}`,
  );
}

export interface RangeHeader {
  from: number;
  to?: number;
}

/** `Range: 0-9` (items). Only GET honours it, as PostgREST ≥ 11. */
export function parseRangeHeader(header: string | undefined): RangeHeader | null {
  if (!header) return null;
  const m = /^\s*(?:items=)?(\d+)-(\d*)\s*$/.exec(header);
  if (!m) return null;
  const from = Number(m[1]);
  const to = m[2] === '' ? undefined : Number(m[2]);
  if (to !== undefined && to < from) {
    throw new RestError(
      416,
      'PGRST103',
      'Requested range not satisfiable',
      'The lower boundary must be lower than or equal to the upper boundary in the Range header.',
    );
  }
  return { from, to };
}
