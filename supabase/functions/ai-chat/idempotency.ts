// The `Idempotency-Key` request header of ai-chat: a client that retries a turn (a timeout, a
// dropped connection) with the same key gets the same turn back instead of a second model call
// and a second pair of messages. Keys are remembered per user and company for 24 hours
// (private.ai_chat_idempotency); the claim/replay rules live in the chat_turn RPCs.
import type { SupabaseClient } from '@supabase/supabase-js';
import { canonicalJson, sha256Hex } from '../_shared/canonical-json.ts';
import { HttpError } from '../_shared/errors.ts';
import { callRpc } from '../_shared/rpc.ts';

/** The `p_idempotency` argument of chat_turn / chat_turn_complete / chat_turn_release. */
export interface IdempotencyArgs {
  key: string;
  /** sha256 of the request's meaningful fields: the same key with another request is refused. */
  request_hash: string;
  /** This request's claim on the key (a random id). */
  owner: string;
  /** How long a claim blocks duplicates if its request dies without releasing it. */
  claim_ms: number;
}

/** Printable ASCII, 1–255 characters (what Stripe and the IETF draft accept in practice). */
const KEY = /^[\x21-\x7e]{1,255}$/;

/** The request fields that make two requests the same turn (`stream` aside: a replay may stream). */
export interface TurnRequest {
  company_id: string;
  conversation_id?: string | null;
  message: string;
  context_type?: string;
  model: string;
}

export async function idempotencyFrom(
  headers: Headers,
  request: TurnRequest,
  claimMs: number,
): Promise<IdempotencyArgs | null> {
  const key = headers.get('idempotency-key');
  if (key === null) return null;
  if (!KEY.test(key)) {
    throw new HttpError(400, 'invalid_idempotency_key', 'Idempotency-Key: 1 to 255 printable ASCII characters');
  }
  const request_hash = await sha256Hex(canonicalJson({
    company_id: request.company_id,
    conversation_id: request.conversation_id ?? null,
    message: request.message,
    context_type: request.context_type ?? null,
    model: request.model,
  }));
  return { key, request_hash, owner: crypto.randomUUID(), claim_ms: claimMs };
}

/** Gives the key back after a failed turn so a retry runs normally. Never throws: the claim expires anyway. */
export async function releaseClaim(
  db: SupabaseClient,
  userId: string,
  companyId: string,
  idem: IdempotencyArgs | null,
): Promise<void> {
  if (!idem) return;
  try {
    await callRpc(db, 'chat_turn_release', { p_user_id: userId, p_company_id: companyId, p_idempotency: idem }, 2);
  } catch (e) {
    console.error('chat_turn_release failed:', e);
  }
}
