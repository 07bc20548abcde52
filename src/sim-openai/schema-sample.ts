import { fnv1a } from './determinism.ts';

/**
 * Builds a deterministic value that satisfies a (practical subset of) JSON Schema, the way
 * structured outputs would: every declared property, enums/const, numeric bounds, string
 * length/format, array item counts, $ref/$defs, anyOf/oneOf/allOf. Regex `pattern` is only
 * honoured when one of a few stock candidates happens to match.
 */
export function sampleFromSchema(schema: unknown, seed: string): unknown {
  return new Sampler(schema, seed).sample(schema, '$', 'value', 0);
}

type Schema = Record<string, unknown>;

const MAX_DEPTH = 12;

class Sampler {
  constructor(
    private readonly root: unknown,
    private readonly seed: string,
  ) {}

  sample(input: unknown, path: string, name: string, depth: number): unknown {
    if (input === true || input === undefined || input === null) return this.sentence(name, path, {});
    if (input === false || typeof input !== 'object') return null;
    let schema = this.resolve(input as Schema, depth);

    if ('const' in schema) return schema.const;
    if (Array.isArray(schema.enum) && schema.enum.length > 0) return schema.enum[this.pick(path, schema.enum.length)];

    const branches = (schema.anyOf ?? schema.oneOf) as unknown[] | undefined;
    if (Array.isArray(branches) && branches.length > 0) {
      // Non-null branches make richer answers; past the depth cap null ends recursive schemas.
      const isNull = (b: unknown) => isNullSchema(this.resolve(asSchema(b), depth));
      const chosen = (depth >= MAX_DEPTH ? branches.find(isNull) : branches.find((b) => !isNull(b))) ?? branches[0];
      const { anyOf: _a, oneOf: _o, ...rest } = schema;
      return this.sample(mergeSchemas(rest, this.resolve(asSchema(chosen), depth)), path, name, depth + 1);
    }
    if (Array.isArray(schema.allOf) && schema.allOf.length > 0) {
      const { allOf, ...rest } = schema;
      schema = (allOf as unknown[]).reduce<Schema>(
        (acc, part) => mergeSchemas(acc, this.resolve(asSchema(part), depth)),
        rest,
      );
      return this.sample(schema, path, name, depth + 1);
    }

    switch (pickType(schema, depth)) {
      case 'object':
        return this.object(schema, path, depth);
      case 'array':
        return this.array(schema, path, name, depth);
      case 'integer':
        return this.integer(schema, path);
      case 'number':
        return this.number(schema, path);
      case 'boolean':
        return this.hash(path) % 2 === 0;
      case 'null':
        return null;
      default:
        return this.string(schema, path, name);
    }
  }

  resolve(schema: Schema, depth: number): Schema {
    let current = schema;
    for (let hops = 0; typeof current.$ref === 'string' && hops < 32; hops++) {
      if (depth > MAX_DEPTH * 2) return {};
      const { $ref, ...siblings } = current;
      current = mergeSchemas(asSchema(resolvePointer(this.root, $ref as string)), siblings);
    }
    return current;
  }

  private object(schema: Schema, path: string, depth: number): Record<string, unknown> {
    const properties = (schema.properties ?? {}) as Record<string, unknown>;
    const required = Array.isArray(schema.required) ? (schema.required as string[]) : [];
    const out: Record<string, unknown> = {};
    // Past the depth cap only required keys are filled, which lets recursive schemas terminate.
    const keys = depth >= MAX_DEPTH ? required : [...new Set([...Object.keys(properties), ...required])];
    for (const key of keys) {
      const propSchema = key in properties ? properties[key] : schema.additionalProperties;
      out[key] = this.sample(typeof propSchema === 'object' ? propSchema : {}, `${path}.${key}`, key, depth + 1);
    }
    return out;
  }

  private array(schema: Schema, path: string, name: string, depth: number): unknown[] {
    const min = toInt(schema.minItems) ?? 0;
    const max = toInt(schema.maxItems) ?? Number.POSITIVE_INFINITY;
    const prefix = Array.isArray(schema.prefixItems) ? (schema.prefixItems as unknown[]) : [];
    const preferred = depth >= MAX_DEPTH ? min : Math.max(min, prefix.length, 2);
    const count = Math.max(min, Math.min(preferred, max));
    const items: unknown[] = [];
    for (let i = 0; i < count; i++) {
      const itemSchema = i < prefix.length ? prefix[i] : schema.items;
      items.push(this.sample(itemSchema ?? {}, `${path}[${i}]`, `${name} item ${i + 1}`, depth + 1));
    }
    return items;
  }

  private integer(schema: Schema, path: string): number {
    const [lo, hi] = integerBounds(schema);
    let value = lo + (this.hash(path) % (hi - lo + 1));
    const step = typeof schema.multipleOf === 'number' && Number.isInteger(schema.multipleOf) && schema.multipleOf > 0
      ? schema.multipleOf
      : 0;
    if (step) {
      const up = Math.ceil(value / step) * step;
      const down = Math.floor(value / step) * step;
      value = up <= hi ? up : down >= lo ? down : value;
    }
    return value;
  }

  private number(schema: Schema, path: string): number {
    const exclMin = exclusiveBound(schema, 'min');
    const exclMax = exclusiveBound(schema, 'max');
    const lo = num(schema.minimum) ?? exclMin ?? (num(schema.maximum) ?? exclMax ?? 100) - 100;
    const hi = num(schema.maximum) ?? exclMax ?? lo + 100;
    const fraction = 0.1 + ((this.hash(path) % 1000) / 1000) * 0.8;
    const raw = lo + (hi - lo) * fraction;
    const rounded = Math.round(raw * 100) / 100;
    const inside = (v: number) =>
      v >= lo && v <= hi && (exclMin === undefined || v > exclMin) && (exclMax === undefined || v < exclMax);
    if (typeof schema.multipleOf === 'number' && schema.multipleOf > 0) {
      const snapped = Math.ceil(raw / schema.multipleOf) * schema.multipleOf;
      if (inside(snapped)) return snapped;
    }
    return inside(rounded) ? rounded : (lo + hi) / 2;
  }

  private string(schema: Schema, path: string, name: string): string {
    const formatted = typeof schema.format === 'string' ? this.formatted(schema.format, path) : undefined;
    let value = formatted ?? this.sentence(name, path, schema);
    if (typeof schema.pattern === 'string' && !safeTest(schema.pattern, value)) {
      value = PATTERN_CANDIDATES.find((c) => safeTest(schema.pattern as string, c)) ?? value;
    }
    return value;
  }

  private sentence(name: string, path: string, schema: Schema): string {
    let text = `Simulated ${name} ${this.hashHex(path)}.`;
    const min = toInt(schema.minLength) ?? 0;
    const max = toInt(schema.maxLength);
    while (text.length < min) text += ' Lorem ipsum.';
    if (max !== undefined && text.length > max) text = text.slice(0, max);
    return text;
  }

  private formatted(format: string, path: string): string | undefined {
    const h = this.hash(path);
    const hex = this.hashHex(path) + this.hashHex(`${path}#2`) + this.hashHex(`${path}#3`) + this.hashHex(`${path}#4`);
    const date = new Date(Date.UTC(2024, 0, 1) + (h % 365) * 86_400_000 + (h % 86_400) * 1000);
    switch (format) {
      case 'date-time':
        return date.toISOString().replace('.000Z', 'Z');
      case 'date':
        return date.toISOString().slice(0, 10);
      case 'time':
        return date.toISOString().slice(11, 19);
      case 'email':
        return `user${h % 10_000}@example.com`;
      case 'uuid':
        return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${
          hex.slice(20, 32)
        }`;
      case 'uri':
      case 'url':
      case 'iri':
        return `https://example.com/${hex.slice(0, 8)}`;
      case 'hostname':
        return `host-${hex.slice(0, 6)}.example.com`;
      case 'ipv4':
        return `192.0.2.${h % 255}`;
      case 'ipv6':
        return `2001:db8::${(h % 0xffff).toString(16)}`;
      case 'duration':
        return `P${(h % 30) + 1}D`;
      default:
        return undefined;
    }
  }

  private hash(path: string): number {
    return fnv1a(`${this.seed}|${path}`);
  }

  private hashHex(path: string): string {
    return this.hash(path).toString(16).padStart(8, '0');
  }

  private pick(path: string, size: number): number {
    return this.hash(path) % size;
  }
}

const PATTERN_CANDIDATES = [
  'a',
  'abc',
  'A',
  'ABC',
  '0',
  '1',
  '123',
  'abc123',
  'a-b',
  'a_b',
  'example',
  'x@example.com',
];

function safeTest(pattern: string, value: string): boolean {
  try {
    return new RegExp(pattern, 'u').test(value);
  } catch {
    return true;
  }
}

function asSchema(value: unknown): Schema {
  return value && typeof value === 'object' ? (value as Schema) : {};
}

function isNullSchema(schema: Schema): boolean {
  return schema.type === 'null' || (Array.isArray(schema.enum) && schema.enum.length === 1 && schema.enum[0] === null);
}

/** Shallow merge good enough for $ref siblings and allOf: properties and required are unioned. */
function mergeSchemas(a: Schema, b: Schema): Schema {
  const merged: Schema = { ...a, ...b };
  if (a.properties || b.properties) merged.properties = { ...asSchema(a.properties), ...asSchema(b.properties) };
  if (Array.isArray(a.required) || Array.isArray(b.required)) {
    merged.required = [...new Set([...((a.required as string[]) ?? []), ...((b.required as string[]) ?? [])])];
  }
  return merged;
}

function resolvePointer(root: unknown, ref: string): unknown {
  if (!ref.startsWith('#')) return {};
  const parts = ref
    .slice(1)
    .split('/')
    .filter((p) => p !== '')
    .map((p) => decodeURIComponent(p).replace(/~1/g, '/').replace(/~0/g, '~'));
  let node: unknown = root;
  for (const part of parts) {
    if (!node || typeof node !== 'object') return {};
    node = (node as Record<string, unknown>)[part];
  }
  return node ?? {};
}

function pickType(schema: Schema, depth: number): string {
  const type = schema.type;
  if (typeof type === 'string') return type;
  if (Array.isArray(type)) {
    if (depth >= MAX_DEPTH && type.includes('null')) return 'null';
    return (type.find((t) => t !== 'null') as string | undefined) ?? 'null';
  }
  if (schema.properties || schema.additionalProperties || schema.required) return 'object';
  if (schema.items || schema.prefixItems) return 'array';
  if (schema.minimum !== undefined || schema.maximum !== undefined) return 'number';
  return 'string';
}

function num(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

function toInt(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? Math.max(0, Math.floor(value)) : undefined;
}

/** Supports both draft-06+ numeric exclusive bounds and draft-04 boolean flags. */
function exclusiveBound(schema: Schema, side: 'min' | 'max'): number | undefined {
  const key = side === 'min' ? 'exclusiveMinimum' : 'exclusiveMaximum';
  const plain = side === 'min' ? schema.minimum : schema.maximum;
  if (typeof schema[key] === 'number') return schema[key] as number;
  if (schema[key] === true && typeof plain === 'number') return plain;
  return undefined;
}

function integerBounds(schema: Schema): [number, number] {
  const exclMin = exclusiveBound(schema, 'min');
  const exclMax = exclusiveBound(schema, 'max');
  let lo = exclMin !== undefined
    ? Math.floor(exclMin) + 1
    : num(schema.minimum) !== undefined
    ? Math.ceil(num(schema.minimum)!)
    : undefined;
  let hi = exclMax !== undefined
    ? Math.ceil(exclMax) - 1
    : num(schema.maximum) !== undefined
    ? Math.floor(num(schema.maximum)!)
    : undefined;
  if (lo === undefined && hi === undefined) [lo, hi] = [0, 100];
  else if (lo === undefined) lo = hi! - 100;
  else if (hi === undefined) hi = lo + 100;
  return [lo!, Math.max(lo!, hi!)];
}
