import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ProtocolError } from './errors.js'
import {
  formatClientHandshake,
  HandshakeParser,
  isVersionBefore,
  parseVersion,
} from './handshake.js'
import type { Handshake, HandshakeOptions } from './handshake.js'

const PR_OPTIONS: HandshakeOptions = {
  protocolName: 'PRSERVICE',
  acceptsVersion: (v) => v.length === 2 && v[0] === 1 && v[1] === 0,
}
/** OEHASHEQUIV accepts (1, 0) < v <= (1, 1). */
const HASH_OPTIONS: HandshakeOptions = {
  protocolName: 'OEHASHEQUIV',
  acceptsVersion: (v) => isVersionBefore([1, 0], v) && !isVersionBefore([1, 1], v),
}

/** Feeds lines until the handshake completes; undefined when it never does. */
function feed(lines: readonly string[], options = PR_OPTIONS): Handshake | undefined {
  const parser = new HandshakeParser(options)
  for (const line of lines) {
    const step = parser.push(line)
    if (step.isComplete) return step.handshake
  }
  return undefined
}

test('handshake: accepts the reference client handshake', () => {
  const handshake = feed(['PRSERVICE 1.0', 'needs-headers: false', ''])
  assert.ok(handshake)
  assert.deepEqual(handshake.version, [1, 0])
  assert.equal(handshake.needsHeaders, false)
  assert.equal(handshake.headers.get('needs-headers'), 'false')
})

test('handshake: the client handshake is the 36 bytes of asyncrpc.md §5.1', () => {
  const bytes = formatClientHandshake('PRSERVICE', '1.0').join('\n') + '\n'
  assert.equal(bytes, 'PRSERVICE 1.0\nneeds-headers: false\n\n')
  assert.equal(Buffer.byteLength(bytes), 36)
})

test('handshake: old clients send no headers at all', () => {
  assert.equal(feed(['PRSERVICE 1.0', ''])?.needsHeaders, false)
})

test('handshake: needs-headers is true only for the exact value "true"', () => {
  const cases: [string, boolean][] = [
    ['needs-headers: true', true],
    ['Needs-Headers:  true  ', true],
    ['NEEDS-HEADERS:true', true],
    ['needs-headers: True', false],
    ['needs-headers: 1', false],
    ['needs-headers: false', false],
    [' needs-headers: true', false],
  ]
  for (const [header, expected] of cases) {
    assert.equal(
      feed(['PRSERVICE 1.0', 'X-Foo:  Bar ', header, ''])?.needsHeaders,
      expected,
      header,
    )
  }
})

test('handshake: trailing whitespace and CR are trimmed from every line', () => {
  const handshake = feed(['PRSERVICE 1.0\r', 'x-foo: a:b \r', ' \t\r'])
  assert.equal(handshake?.headers.get('x-foo'), 'a:b')
  assert.deepEqual(feed(['  PRSERVICE   1.0  ', ''])?.version, [1, 0])
})

test('handshake: version rules of asyncrpc.md §5.2 for both services', () => {
  for (const version of ['1.0', '01.0', '1.00']) {
    assert.ok(feed([`PRSERVICE ${version}`, '']), version)
  }
  for (const version of ['1', '1.0.0', '1.1', '0.9']) {
    assert.throws(() => feed([`PRSERVICE ${version}`, '']), ProtocolError, version)
  }
  for (const version of ['1.1', '01.1', '1.0.0', '1.0.7']) {
    assert.ok(feed([`OEHASHEQUIV ${version}`, ''], HASH_OPTIONS), version)
  }
  for (const version of ['1.0', '1', '1.1.0', '1.2']) {
    assert.throws(() => feed([`OEHASHEQUIV ${version}`, ''], HASH_OPTIONS), ProtocolError, version)
  }
})

test('handshake: rejects malformed protocol lines', () => {
  const bad = [
    '',
    '   ',
    'PRSERVICE',
    'PRSERVICE 1.0 extra',
    'prservice 1.0',
    'OEHASHEQUIV 1.1',
    'PRSERVICE 1.x',
    'PRSERVICE 1.',
    'PRSERVICE .0',
    '{"ping": {}}',
  ]
  for (const line of bad) assert.throws(() => feed([line, '']), ProtocolError, JSON.stringify(line))
})

test('handshake: a header line without a colon closes', () => {
  assert.throws(() => feed(['PRSERVICE 1.0', 'badheader', '']), /without ":"/)
})

test('handshake: caps header lines at maxHeaderCount, exactly', () => {
  const headers = (count: number): string[] => Array.from({ length: count }, (_, i) => `h${i}: v`)
  const options = { ...PR_OPTIONS, maxHeaderCount: 3 }
  assert.equal(feed(['PRSERVICE 1.0', ...headers(3), ''], options)?.headers.size, 3)
  assert.throws(() => feed(['PRSERVICE 1.0', ...headers(4), ''], options), /more than 3/)
})

test('handshake: parseVersion follows Python int()', () => {
  assert.deepEqual(parseVersion('01.0'), [1, 0])
  assert.deepEqual(parseVersion('1_0.+2'), [10, 2])
  for (const text of ['', 'a', '1..0', '1._0', '0x1', '1 .0']) {
    assert.throws(() => parseVersion(text), ProtocolError, text)
  }
})

test('handshake: isVersionBefore orders like Python tuples', () => {
  assert.equal(isVersionBefore([1, 0], [1, 0, 0]), true)
  assert.equal(isVersionBefore([1, 0, 7], [1, 1]), true)
  assert.equal(isVersionBefore([1, 1], [1, 1, 0]), true)
  assert.equal(isVersionBefore([1, 1], [1, 1]), false)
  assert.equal(isVersionBefore([2], [1, 9]), false)
})
