import type { OpenAIErrorFields } from './http-io.ts';

/** The subset of the chat completion request the simulator looks at; everything else still feeds the answer hash. */
export interface ChatRequest {
  model: string;
  messages: ChatMessage[];
  stream?: boolean;
  stream_options?: { include_usage?: boolean } | null;
  max_tokens?: number | null;
  max_completion_tokens?: number | null;
  response_format?: ResponseFormat | null;
  tools?: ToolDefinition[] | null;
  tool_choice?: unknown;
  [key: string]: unknown;
}

export interface ChatMessage {
  role: string;
  content?: unknown;
  [key: string]: unknown;
}

export type ResponseFormat =
  | { type: 'text' }
  | { type: 'json_object' }
  | { type: 'json_schema'; json_schema: { name?: string; schema?: unknown; strict?: boolean | null } };

export interface ToolDefinition {
  type: string;
  function?: { name: string; description?: string; parameters?: unknown };
  [key: string]: unknown;
}

/** Returns an OpenAI-style validation error, or null when the body is usable. */
export function validateChatRequest(body: unknown): OpenAIErrorFields | null {
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    return invalid('The request body must be a JSON object.', null);
  }
  const req = body as Record<string, unknown>;
  if (typeof req.model !== 'string' || req.model === '') {
    return invalid('you must provide a model parameter', 'model', 'missing_required_parameter');
  }
  if (!Array.isArray(req.messages) || req.messages.length === 0) {
    return invalid("'messages' must be a non-empty array.", 'messages');
  }
  for (const [i, m] of req.messages.entries()) {
    if (!m || typeof m !== 'object' || typeof (m as ChatMessage).role !== 'string') {
      return invalid(`Invalid value for 'messages[${i}]': each message needs a string 'role'.`, `messages[${i}]`);
    }
  }
  const format = req.response_format as { type?: unknown; json_schema?: { schema?: unknown } } | undefined | null;
  if (format && format.type === 'json_schema' && (!format.json_schema || typeof format.json_schema !== 'object')) {
    return invalid(
      "Missing required parameter: 'response_format.json_schema'.",
      'response_format.json_schema',
      'missing_required_parameter',
    );
  }
  for (const key of ['max_tokens', 'max_completion_tokens'] as const) {
    const v = req[key];
    if (v !== undefined && v !== null && (typeof v !== 'number' || !Number.isInteger(v) || v < 1)) {
      return invalid(`Invalid '${key}': must be a positive integer.`, key, 'integer_below_min_value');
    }
  }
  return null;
}

function invalid(message: string, param: string | null, code: string | null = null): OpenAIErrorFields {
  return { message, type: 'invalid_request_error', param, code };
}

/** Text of a message content: plain string or the text parts of a content-part array. */
export function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .map((
      part,
    ) => (part && typeof part === 'object' && typeof (part as { text?: unknown }).text === 'string'
      ? (part as { text: string }).text
      : '')
    )
    .filter((t) => t !== '')
    .join('\n');
}

/** Tolerant of malformed bodies because it also feeds stats for requests that are then rejected. */
export function lastUserMessage(messages: unknown): string {
  if (!Array.isArray(messages)) return '';
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i] as ChatMessage | null;
    if (m && typeof m === 'object' && m.role === 'user') return contentText(m.content);
  }
  return '';
}

export function promptText(req: ChatRequest): string {
  let text = '';
  for (const m of req.messages) text += contentText(m.content) + '\n';
  if (req.tools) text += JSON.stringify(req.tools);
  return text;
}
