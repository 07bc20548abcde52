/** Fixed `created` timestamps keep the model list byte-for-byte stable across runs. */
export const SIM_MODELS = [
  { id: 'gpt-4o-mini', object: 'model', created: 1721172741, owned_by: 'system' },
  { id: 'gpt-4o', object: 'model', created: 1715367049, owned_by: 'system' },
  { id: 'gpt-4.1-mini', object: 'model', created: 1744318173, owned_by: 'system' },
  { id: 'text-embedding-3-small', object: 'model', created: 1705948997, owned_by: 'system' },
] as const;

export function modelList() {
  return { object: 'list' as const, data: SIM_MODELS };
}
