import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ProtocolError } from './errors.js'
import { DEFAULT_MAX_LINE_BYTES, LineFramer } from './line-framer.js'

/** Feeds `parts` to a fresh framer, then ends the input; returns the lines. */
function frame(parts: readonly Buffer[], maxLineBytes?: number): string[] {
  const framer = new LineFramer(maxLineBytes === undefined ? {} : { maxLineBytes })
  const lines: string[] = []
  for (const part of parts) framer.push(part, (line) => lines.push(line))
  framer.finish()
  return lines
}

/** Every way to cut `bytes` once, plus byte-by-byte. */
function splits(bytes: Buffer): Buffer[][] {
  const result: Buffer[][] = [[bytes]]
  for (let offset = 0; offset <= bytes.length; offset++) {
    result.push([bytes.subarray(0, offset), bytes.subarray(offset)])
  }
  result.push([...bytes].map((byte) => Buffer.from([byte])))
  return result
}

test('line framer: strips LF and one CR, keeps other whitespace, at every split', () => {
  const input = Buffer.from('a\nbc\r\n\n d \t\nxyz\r\r\n\r\n')
  for (const parts of splits(input)) {
    assert.deepEqual(frame(parts), ['a', 'bc', '', ' d \t', 'xyz\r', ''])
  }
})

test('line framer: decodes multi-byte UTF-8 cut at every offset', () => {
  const input = Buffer.from('é€\u{1F600}\nﬀ\ufffd\n')
  for (const parts of splits(input)) assert.deepEqual(frame(parts), ['é€\u{1F600}', 'ﬀ\ufffd'])
})

test('line framer: accepts a line of exactly maxLineBytes, with or without CR', () => {
  const max = 10
  for (const text of ['x'.repeat(max) + '\n', 'x'.repeat(max) + '\r\n']) {
    for (const parts of splits(Buffer.from(text))) {
      assert.deepEqual(frame(parts, max), ['x'.repeat(max)])
    }
  }
})

test('line framer: rejects a line of maxLineBytes + 1, at every split', () => {
  const max = 10
  for (const text of [
    'x'.repeat(max + 1) + '\n',
    'x'.repeat(max) + '\r\r\n',
    'x'.repeat(max + 2),
  ]) {
    for (const parts of splits(Buffer.from(text))) {
      assert.throws(() => frame(parts, max), ProtocolError, JSON.stringify(text))
    }
  }
})

test('line framer: rejects an unterminated line as soon as it exceeds the cap', () => {
  const framer = new LineFramer({ maxLineBytes: 4 })
  framer.push(Buffer.from('abcd\r'), () => {
    assert.fail('no line expected')
  })
  assert.throws(() => {
    framer.push(Buffer.from('e'), () => undefined)
  }, /longer than 4 bytes/)
})

test('line framer: the default cap accepts 64 KiB lines and refuses 70 KB ones', () => {
  assert.ok(DEFAULT_MAX_LINE_BYTES >= 65_536 && DEFAULT_MAX_LINE_BYTES < 70_000)
  assert.equal(frame([Buffer.from('x'.repeat(65_536) + '\n')])[0]?.length, 65_536)
  assert.throws(() => frame([Buffer.from('x'.repeat(70_000) + '\n')]), ProtocolError)
})

test('line framer: rejects invalid UTF-8 at every split', () => {
  const invalid = [
    Buffer.from([0x61, 0xff, 0x0a]),
    Buffer.from([0xc0, 0x80, 0x0a]),
    Buffer.from([0xe2, 0x82, 0x0a]),
    Buffer.from([0xed, 0xa0, 0x80, 0x0a]),
  ]
  for (const input of invalid) {
    for (const parts of splits(input)) assert.throws(() => frame(parts), ProtocolError)
  }
})

test('line framer: a partial line at end of input is a ProtocolError', () => {
  for (const parts of splits(Buffer.from('ok\n{"ping": {}}'))) {
    assert.throws(() => frame(parts), /end of stream inside a line/)
  }
  const framer = new LineFramer()
  framer.push(Buffer.from('a'), () => undefined)
  assert.equal(framer.hasPartialLine, true)
})

test('line framer: empty input and empty lines', () => {
  assert.deepEqual(frame([]), [])
  assert.deepEqual(frame([Buffer.alloc(0)]), [])
  assert.deepEqual(frame([Buffer.from('\n\n\r\n')]), ['', '', ''])
})
