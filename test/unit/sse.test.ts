// The typed client's SSE reader: events must survive any chunking of the stream.
import { describe, expect, it } from 'vitest';
import { sseData } from '../../src/client/sse.ts';

function streamOf(chunks: string[]): ReadableStream<Uint8Array> {
  const enc = new TextEncoder();
  return new ReadableStream({
    start(c) {
      for (const chunk of chunks) c.enqueue(enc.encode(chunk));
      c.close();
    },
  });
}

async function collect(chunks: string[]): Promise<string[]> {
  const out: string[] = [];
  for await (const d of sseData(streamOf(chunks))) out.push(d);
  return out;
}

describe('sseData', () => {
  it('keeps events apart when a CRLF is split across chunks', async () => {
    expect(await collect(['data: one\r', '\n\r', '\ndata: two\r\n\r\n'])).toEqual(['one', 'two']);
  });

  it('treats a lone CR as a line end, even at the end of a chunk', async () => {
    expect(await collect(['data: a\r', '\r', 'data: b\r', '\rdata: c\n\n'])).toEqual(['a', 'b', 'c']);
  });

  it('joins multi-line data, skips comments and splits inside a UTF-8 character', async () => {
    const bytes = new TextEncoder().encode(': keep-alive\n\ndata: é1\ndata: 2\n\n');
    const at = bytes.indexOf(0xc3) + 1;
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(bytes.slice(0, at));
        c.enqueue(bytes.slice(at));
        c.close();
      },
    });
    const out: string[] = [];
    for await (const d of sseData(stream)) out.push(d);
    expect(out).toEqual(['é1\n2']);
  });

  it('drops an event cut off by the end of the stream, as EventSource does', async () => {
    expect(await collect(['data: {"x":1}\n\n', 'data: {"x":'])).toEqual(['{"x":1}']);
  });
});
