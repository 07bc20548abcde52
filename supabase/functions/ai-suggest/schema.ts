// The request body of ai-suggest: { description_projet, company_id? }.
import { z } from 'zod';
import { intEnv } from '../_shared/env.ts';
import { storableText } from '../_shared/text.ts';

export const MIN_DESCRIPTION_CHARS = intEnv('AI_SUGGEST_MIN_DESCRIPTION_CHARS', 3);
export const MAX_DESCRIPTION_CHARS = intEnv('AI_SUGGEST_MAX_DESCRIPTION_CHARS', 2000);
/** Far above the longest valid description, so an over-long description is a clear 400, not a 413. */
export const MAX_BODY_BYTES = intEnv('AI_SUGGEST_MAX_BODY_BYTES', 128 * 1024);

/**
 * The description as sent to the model: storable (U+0000 removed, lone surrogates replaced),
 * Unicode NFC, whitespace runs collapsed to one space, trimmed; case is kept (the cache key
 * lower-cases it too, see normalizeDescription).
 */
export function cleanDescription(text: string): string {
  return storableText(text).normalize('NFC').replace(/\s+/g, ' ').trim();
}

const codePoints = (s: string) => [...s].length;

export const Body = z.strictObject({
  description_projet: z
    .string({ error: (issue) => (issue.input === undefined ? 'is required' : 'must be a string') })
    .transform(cleanDescription)
    .superRefine((s, ctx) => {
      const n = codePoints(s);
      if (n === 0) ctx.addIssue({ code: 'custom', message: 'must not be empty' });
      else if (n < MIN_DESCRIPTION_CHARS) {
        ctx.addIssue({ code: 'custom', message: `must be at least ${MIN_DESCRIPTION_CHARS} characters` });
      } else if (n > MAX_DESCRIPTION_CHARS) {
        ctx.addIssue({ code: 'custom', message: `must be at most ${MAX_DESCRIPTION_CHARS} characters (got ${n})` });
      }
    }),
  company_id: z.guid('must be a UUID').nullish(),
});

export type SuggestBody = z.infer<typeof Body>;
