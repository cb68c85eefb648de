import { test } from 'node:test'
import assert from 'node:assert/strict'
import {
  CHUNK_STREAM_LINE,
  ChunkAssembler,
  isSingleLineMessage,
  MessageLineSplitter,
  splitMessageLines,
} from './chunking.js'
import type { AssemblyStep } from './chunking.js'
import { encodeJson } from './codec.js'
import { ProtocolError } from './errors.js'

/** A serialised message of exactly `length` characters with no whitespace. */
function messageOfLength(length: number): string {
  const text = encodeJson({ x: '' }) // {"x": ""}
  return encodeJson({ x: 'a'.repeat(length - text.length) })
}

function assemble(lines: readonly string[], assembler = new ChunkAssembler()): unknown[] {
  const messages: unknown[] = []
  for (const line of lines) {
    const step: AssemblyStep = assembler.push(line)
    if (step.isComplete) messages.push(step.message)
  }
  assert.equal(assembler.isAssembling, false)
  return messages
}

test('chunking: line lengths match the reference table of asyncrpc.md §8.2', () => {
  const table: [number, number[]][] = [
    [32_765, [32_765]],
    [32_766, [32_766]],
    [32_767, [22, 32_767, 0]],
    [32_768, [22, 32_767, 1, 0]],
    [65_535, [22, 32_767, 32_767, 1, 0]],
    [70_288, [22, 32_767, 32_767, 4_754, 0]],
  ]
  for (const [length, expected] of table) {
    const serialized = messageOfLength(length)
    assert.equal(serialized.length, length)
    const lines = splitMessageLines(serialized)
    assert.deepEqual(
      lines.map((line) => line.length),
      expected,
      `len(S) = ${length}`,
    )
    if (lines.length > 1) assert.equal(lines[0], CHUNK_STREAM_LINE)
    assert.deepEqual(assemble(lines), [JSON.parse(serialized)])
  }
})

test('chunking: chunking starts at 32 767 characters (strict <)', () => {
  assert.equal(isSingleLineMessage('x'.repeat(32_766)), true)
  assert.equal(isSingleLineMessage('x'.repeat(32_767)), false)
})

test('chunking: no piece ends in whitespace, so a trimming receiver loses nothing', () => {
  const value = { text: 'a'.repeat(32_750) + ' '.repeat(40) + 'b'.repeat(40_000) }
  const serialized = encodeJson(value)
  const lines = splitMessageLines(serialized)
  const pieces = lines.slice(1, -1)
  for (const piece of pieces) assert.doesNotMatch(piece, /\s$/)
  assert.ok(pieces.every((piece) => piece.length <= 32_767 && piece.length > 0))
  // What BitBake's receiver does: rstrip() every piece, then join.
  const trimmedJoin = pieces.map((piece) => piece.trimEnd()).join('')
  assert.deepEqual(JSON.parse(trimmedJoin), value)
})

test('chunking: never splits a surrogate pair across pieces', () => {
  const serialized = '"' + 'a'.repeat(32_765) + '\u{1F600}'.repeat(3) + '"'
  const lines = splitMessageLines(serialized)
  for (const line of lines) assert.equal(line, Buffer.from(line, 'utf8').toString('utf8'))
  assert.equal(lines.slice(1, -1).join(''), serialized)
})

/** A deterministic pseudo-random generator (mulberry32) for reproducible cases. */
function seededRandom(seed: number): () => number {
  let state = seed
  return () => {
    state = (state + 0x6d2b79f5) | 0
    let mixed = Math.imul(state ^ (state >>> 15), 1 | state)
    mixed = (mixed + Math.imul(mixed ^ (mixed >>> 7), 61 | mixed)) ^ mixed
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4_294_967_296
  }
}

test('chunking: a message given in pieces is split exactly as when given whole', () => {
  const random = seededRandom(7)
  // Runs of letters, whitespace and surrogate pairs, so cuts land on every special case.
  const runs = ['a', ' ', '\t', '\u{1F600}', 'b']
  for (let round = 0; round < 40; round++) {
    let text = ''
    const length = Math.floor(random() * 140_000)
    while (text.length < length) {
      const run = runs[Math.floor(random() * runs.length)] ?? 'a'
      text += run.repeat(1 + Math.floor(random() * (random() < 0.1 ? 40_000 : 60)))
    }
    const splitter = new MessageLineSplitter()
    const lines: string[] = []
    for (let start = 0; start < text.length;) {
      const end = start + Math.floor(random() * (random() < 0.5 ? 50 : 70_000))
      lines.push(...splitter.push(text.slice(start, end)))
      start = end
    }
    lines.push(...splitter.end())
    assert.deepEqual(lines, splitMessageLines(text), `round ${round}, ${text.length} characters`)
  }
})

test('chunking: a splitter returns no line before it knows whether the message is chunked', () => {
  const splitter = new MessageLineSplitter()
  assert.deepEqual(splitter.push('a'.repeat(32_766)), [])
  assert.deepEqual(splitter.push('b'), [CHUNK_STREAM_LINE])
  assert.deepEqual(splitter.end(), ['a'.repeat(32_766) + 'b', ''])
  assert.throws(() => splitter.push('c'), /push after end/)
})

test('chunking: empty and ordinary messages are returned directly', () => {
  assert.deepEqual(assemble(['null', '{}', '[]', '""', '0', 'false', '{"ping": {}}']), [
    null,
    {},
    [],
    '',
    0,
    false,
    { ping: {} },
  ])
})

test('chunking: reassembles pieces of any size and keeps their whitespace', () => {
  const lines = ['{"chunk-stream": 5}', '{"ping"', ': {"pad": "x ', ' y"}', '}', '']
  assert.deepEqual(assemble(lines), [{ ping: { pad: 'x  y' } }])
  const single = ['{"chunk-stream": null}', '{"a": 1}', '', '{"b": 2}']
  assert.deepEqual(assemble(single), [{ a: 1 }, { b: 2 }])
})

test('chunking: invalid JSON in a line or a joined stream is a ProtocolError', () => {
  assert.throws(() => new ChunkAssembler().push('{'), ProtocolError)
  const assembler = new ChunkAssembler()
  assembler.push(CHUNK_STREAM_LINE)
  assembler.push('{"a": ')
  assert.throws(() => assembler.push(''), ProtocolError)
  assert.equal(assembler.isAssembling, false)
})

test('chunking: caps the reassembled size at maxMessageBytes, exactly', () => {
  const atLimit = new ChunkAssembler({ maxMessageBytes: 12 })
  assert.deepEqual(assemble([CHUNK_STREAM_LINE, '"abcde', 'é€"', ''], atLimit), ['abcdeé€'])
  const overLimit = new ChunkAssembler({ maxMessageBytes: 12 })
  overLimit.push(CHUNK_STREAM_LINE)
  overLimit.push('"abcde')
  assert.throws(() => overLimit.push('é€x"'), /larger than 12 bytes/)
})

test('chunking: caps the number of pieces, exactly', () => {
  const atLimit = new ChunkAssembler({ maxChunkPieces: 3 })
  assert.deepEqual(assemble([CHUNK_STREAM_LINE, '[1', ',2', ']', ''], atLimit), [[1, 2]])
  const overLimit = new ChunkAssembler({ maxChunkPieces: 3 })
  for (const line of [CHUNK_STREAM_LINE, '[1', ',2', ',3']) overLimit.push(line)
  assert.throws(() => overLimit.push(']'), /more than 3 pieces/)
})
