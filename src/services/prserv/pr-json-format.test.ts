import { strict as assert } from 'node:assert'
import { test } from 'node:test'
import { detectPrFileFormat } from './pr-file-format.js'
import { formatPrRowsJson, parsePrRowsJson, PrRowsJsonParser } from './pr-json-format.js'

const WHEN = '2024-05-01T10:20:30.123Z'

test('json format: one row per line, audit fields only when present', () => {
  const text = formatPrRowsJson([
    { version: 'v', pkgarch: 'a', checksum: 'c1', value: '0', createdAt: WHEN, peer: null },
    { version: 'v', pkgarch: 'a', checksum: 'c2', value: '1' },
  ])
  assert.equal(
    text,
    '[\n' +
      `  {"version":"v","pkgarch":"a","checksum":"c1","value":"0","created":"${WHEN}","peer":null},\n` +
      '  {"version":"v","pkgarch":"a","checksum":"c2","value":"1"}\n' +
      ']\n',
  )
  assert.equal(formatPrRowsJson([]), '[]\n')
})

test('json format: export output reads back unchanged', () => {
  const rows = [
    { version: 'v', pkgarch: 'a', checksum: 'c1', value: '0.1', createdAt: WHEN, peer: 'p' },
    { version: 'v', pkgarch: 'a', checksum: 'c2', value: '1' },
  ]
  assert.deepEqual(parsePrRowsJson(formatPrRowsJson(rows)), {
    format: 'json',
    rows,
    problems: [],
  })
})

test('json format: reads export replies, integer values and other date-time forms', () => {
  const parsed = parsePrRowsJson(
    JSON.stringify({
      metainfo: {},
      datainfo: [
        {
          version: 'v',
          pkgarch: 'a',
          checksum: 'c',
          value: 7,
          created: '2024-05-01 12:20:30+02:00',
        },
      ],
    }),
  )
  assert.deepEqual(parsed.rows, [
    {
      version: 'v',
      pkgarch: 'a',
      checksum: 'c',
      value: '7',
      createdAt: '2024-05-01T10:20:30.000Z',
    },
  ])
})

test('json format: every unusable row is a problem', () => {
  const parsed = parsePrRowsJson(
    JSON.stringify([
      { version: 'v', pkgarch: 'a', checksum: 'ok', value: '1' },
      'text',
      { version: 'v', pkgarch: 'a', value: '1' },
      { version: 'v', pkgarch: 'a', checksum: 'c', value: 'x' },
      { version: 'v', pkgarch: 'a', checksum: 'c', value: null },
      { version: 'v', pkgarch: 'a', checksum: 'c', value: -1 },
      { version: 'v', pkgarch: 'a', checksum: 'c', value: '1', created: 'yesterday' },
      { version: 'v', pkgarch: 'a', checksum: 'c', value: '1', peer: 5 },
      { version: 'v', pkgarch: 'a\0', checksum: 'c', value: '1' },
      { version: 'v'.repeat(513), pkgarch: 'a', checksum: 'c', value: '1' },
      { version: 'v', pkgarch: 'a', checksum: 'c', value: '1', peer: 'p\0' },
    ]),
  )
  assert.equal(parsed.rows.length, 1)
  assert.deepEqual(
    parsed.problems.map((problem) => problem.where),
    ['row 2', 'row 3', 'row 4', 'row 5', 'row 6', 'row 7', 'row 8', 'row 9', 'row 10', 'row 11'],
  )
  assert.deepEqual(
    parsed.problems.slice(-3).map((problem) => problem.message),
    [
      'pkgarch contains a NUL character',
      'version is over 512 bytes',
      'peer contains a NUL character',
    ],
  )
  assert.equal(parsePrRowsJson('{"rows": []}').problems.length, 1)
})

/** Each problem of `text` as `where: message`. */
function problemsOf(text: string): string[] {
  return parsePrRowsJson(text).problems.map((problem) => `${problem.where}: ${problem.message}`)
}

test('json format: invalid JSON is a problem where it is; rows before it are read', () => {
  const row = '{"version": "v", "pkgarch": "a", "checksum": "c", "value": "1"}'
  const noRow = 'no row here (a comma too many?); reading stopped'
  assert.deepEqual(problemsOf(''), ['file: no JSON in the file'])
  assert.deepEqual(problemsOf(' \n '), ['file: no JSON in the file'])
  assert.deepEqual(problemsOf('[{'), [
    'file: unexpected end of the file: the array of rows is not closed',
  ])
  assert.deepEqual(problemsOf(`[${row},]`), [`row 2: ${noRow}`])
  assert.deepEqual(problemsOf(`[,${row}]`), [`row 1: ${noRow}`])
  assert.deepEqual(problemsOf(`[${row}, {"a" 1}]`), [
    "row 2: invalid JSON (Expected ':' after property name in JSON at position 6); reading stopped",
  ])
  assert.deepEqual(problemsOf(`[${row}] x`), ['file: unexpected text after the array of rows'])
  assert.match(problemsOf('{"datainfo": [}')[0] ?? '', /^file: invalid JSON \(Unexpected token/)
  assert.deepEqual(problemsOf('"rows"'), ['file: expected an array of rows or {"datainfo": [...]}'])
  assert.deepEqual(problemsOf(' [ ] \n'), [])
  const truncated = parsePrRowsJson(`[\n  ${row},\n  ${row},\n  {"version": "v", "pkg`)
  assert.equal(truncated.rows.length, 2)
  assert.deepEqual(
    truncated.problems.map((problem) => problem.where),
    ['file'],
  )
})

test('json format: a file given in pieces reads as when given whole', () => {
  // Strings holding the characters the parser tracks: quotes, escapes, commas, brackets.
  const tricky = ['a,b', 'x]y', '{[', 'q"q', 'back\\slash\\', 'é\u{1F600}', '\\"]']
  const rows = tricky.map((checksum, n) => ({
    version: `v${n}`,
    pkgarch: 'a',
    checksum,
    value: String(n),
    ...(n % 2 === 0 ? { createdAt: WHEN, peer: checksum } : {}),
  }))
  const texts = [
    formatPrRowsJson(rows),
    JSON.stringify(rows.map(({ createdAt, ...row }) => ({ ...row, created: createdAt }))),
    JSON.stringify(rows, null, 4),
    '[]',
  ]
  for (const text of texts) {
    const whole = parsePrRowsJson(text)
    assert.equal(whole.problems.length, 0)
    for (let cut = 0; cut <= text.length; cut++) {
      const parser = new PrRowsJsonParser()
      const first = parser.push(text.slice(0, cut))
      const second = parser.push(text.slice(cut))
      const last = parser.end()
      assert.deepEqual([...first.rows, ...second.rows, ...last.rows], whole.rows, `cut ${cut}`)
      assert.equal(first.problems.length + second.problems.length + last.problems.length, 0)
    }
  }
})

test('file format detection: JSON opens with [ or {, anything else is the tool format', () => {
  assert.equal(detectPrFileFormat('  \n[]'), 'json')
  assert.equal(detectPrFileFormat('{"datainfo": []}'), 'json')
  assert.equal(detectPrFileFormat('PRAUTO$a$b$c = "1"\n'), 'prserv-tool')
  assert.equal(detectPrFileFormat(''), 'prserv-tool')
})
