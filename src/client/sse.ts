// Reads server-sent events from a fetch body with eventsource-parser, which follows the
// WHATWG rules (CR, LF or CRLF line ends, even when a CRLF is split across chunks; multi-line
// data; comments; a BOM).
import { createParser } from 'eventsource-parser';

/** Yields the `data` payload of each event, in order, until the body ends. */
export async function* sseData(body: ReadableStream<Uint8Array>, signal?: AbortSignal): AsyncGenerator<string> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  const ready: string[] = [];
  const parser = createParser({ onEvent: (event) => ready.push(event.data) });
  let finished = false;
  const onAbort = () => void reader.cancel().catch(() => {});
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) {
        // An event the stream cut off before its blank line is dropped, as EventSource does.
        parser.feed(decoder.decode());
      } else {
        parser.feed(decoder.decode(value, { stream: true }));
      }
      while (ready.length) yield ready.shift()!;
      if (done) {
        finished = true;
        return;
      }
    }
  } finally {
    signal?.removeEventListener('abort', onAbort);
    // The consumer stopped early (break, error): close the connection instead of leaving it open.
    if (!finished) await reader.cancel().catch(() => {});
    reader.releaseLock();
  }
}
