import type { IncomingMessage, ServerResponse } from 'node:http';
import { GatewayError, RestError } from './errors.ts';

/** Bodies beyond this are refused before parsing: a local API has no business with bigger ones. */
const MAX_BODY_BYTES = 32 * 1024 * 1024;

export function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new RestError(413, 'PGRST102', 'Request body too large'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on(
      'end',
      () => resolve(chunks.length === 1 ? chunks[0].toString('utf8') : Buffer.concat(chunks).toString('utf8')),
    );
    req.on('error', reject);
  });
}

export const JSON_TYPE = 'application/json; charset=utf-8';

export function send(
  res: ServerResponse,
  status: number,
  headers: Record<string, string>,
  body: string,
  head = false,
): void {
  if (body !== '' && !head) headers['Content-Length'] = String(Buffer.byteLength(body));
  res.writeHead(status, headers);
  res.end(head ? undefined : body);
}

export function sendError(res: ServerResponse, err: RestError | GatewayError, head = false): void {
  if (err instanceof GatewayError) {
    const body = JSON.stringify(err.hint ? { message: err.message, hint: err.hint } : { message: err.message });
    send(res, err.status, { 'Content-Type': JSON_TYPE }, body, head);
    return;
  }
  send(
    res,
    err.status,
    { 'Content-Type': JSON_TYPE, 'Proxy-Status': `PostgREST; error=${err.code}`, ...err.headers },
    JSON.stringify(err.body()),
    head,
  );
}
