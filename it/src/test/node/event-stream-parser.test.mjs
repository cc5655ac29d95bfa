// The page's text/event-stream parser on framings a real server's chunks can take (node --test).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EventStreamParser } from '../../../../gateway/src/main/resources/META-INF/resources/api.js';

function parse(...chunks) {
  const events = [];
  const parser = new EventStreamParser(data => events.push(data));
  for (const chunk of chunks) parser.push(chunk);
  parser.end();
  return events;
}

test('events end at a blank line, whatever the line ends', () => {
  assert.deepEqual(parse('data: {"a":1}\n\ndata: {"b":2}\r\n\r\ndata: {"c":3}\r\r'), ['{"a":1}', '{"b":2}', '{"c":3}']);
});

test('a CRLF split between chunks ends one line, not two', () => {
  assert.deepEqual(parse('data: one\r', '\ndata: more\r', '\n\r', '\n'), ['one\nmore']);
});

test('a line split at any character', () => {
  const text = 'data: {"prompt":"ein großer Kreis"}\n\n';
  for (let cut = 0; cut <= text.length; cut++) {
    assert.deepEqual(parse(text.slice(0, cut), text.slice(cut)), ['{"prompt":"ein großer Kreis"}'], `cut at ${cut}`);
  }
});

test('data lines join with LF; comments, other fields and the space after the colon are dropped', () => {
  assert.deepEqual(parse(': keep-alive\nevent: error\nid: 3\ndata:{\ndata:  "x": 1\ndata: }\n\n'), ['{\n "x": 1\n}']);
});

test('an event cut off by the end of the stream is dropped', () => {
  assert.deepEqual(parse('data: done\n\ndata: {"half'), ['done']);
});
