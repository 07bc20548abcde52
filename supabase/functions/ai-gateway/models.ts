// The models the gateway lets callers use (AI_GATEWAY_MODELS, comma-separated): GET /v1/models
// lists them and every other endpoint refuses the rest with OpenAI's 404 model_not_found.
import { config } from '../_shared/config.ts';
import { jsonResponse } from '../_shared/errors.ts';
import { OpenAIError } from './openai-errors.ts';

export function allowedModels(): string[] {
  return config().gatewayModels;
}

export function assertModelAllowed(model: string): void {
  if (!allowedModels().includes(model)) {
    throw new OpenAIError(404, {
      message: `The model '${model}' does not exist or you do not have access to it.`,
      type: 'invalid_request_error',
      param: 'model',
      code: 'model_not_found',
    });
  }
}

function modelObject(id: string) {
  return { id, object: 'model', created: 0, owned_by: 'ai-gateway' };
}

export function listModels(): Response {
  return jsonResponse({ object: 'list', data: allowedModels().map(modelObject) });
}

export function retrieveModel(id: string): Response {
  assertModelAllowed(id);
  return jsonResponse(modelObject(id));
}
