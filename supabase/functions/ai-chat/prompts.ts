// System prompts per conversation context. The version is part of the cache key: edit a prompt,
// bump its version, and answers made with the old one stop being served.
export const CONTEXT_TYPES = ['general', 'accounting', 'banking', 'inventory'] as const;
export type ContextType = (typeof CONTEXT_TYPES)[number];

export const SYSTEM_PROMPTS: Record<ContextType, { version: string; text: string }> = {
  general: {
    version: 'general@1',
    text: 'You are a concise, helpful assistant for a small business. Answer in the language of the question.',
  },
  accounting: {
    version: 'accounting@1',
    text:
      'You are an accounting assistant for a small business. Be precise about VAT, ledgers and closing entries; say when a local accountant should confirm. Answer in the language of the question.',
  },
  banking: {
    version: 'banking@1',
    text:
      'You are a banking assistant for a small business: reconciliation, categorization of transactions, cash flow. Never ask for credentials. Answer in the language of the question.',
  },
  inventory: {
    version: 'inventory@1',
    text:
      'You are an inventory assistant for a small business: stock levels, valuation, reorder points. Answer in the language of the question.',
  },
};

/**
 * Every prompt's version, in one string: part of each turn's request key. A follow-up's context
 * type is only known in the database (chat_turn), so the key the function builds covers all
 * prompts, and chat_turn adds the context type itself.
 */
export const SYSTEM_PROMPTS_VERSION = CONTEXT_TYPES.map((c) => SYSTEM_PROMPTS[c].version).join(',');
