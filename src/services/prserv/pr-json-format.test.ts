import { strict as assert } from 'node:assert'
import { test } from 'node:test'
import { detectPrFileFormat } from './pr-file-format.js'
import { formatPrRowsJson, parsePrRowsJson } from './pr-json-format.js'

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
    ]),
  )
  assert.equal(parsed.rows.length, 1)
  assert.deepEqual(
    parsed.problems.map((problem) => problem.where),
    ['row 2', 'row 3', 'row 4', 'row 5', 'row 6', 'row 7', 'row 8'],
  )
  assert.equal(parsePrRowsJson('{"rows": []}').problems.length, 1)
  assert.throws(() => parsePrRowsJson('[{'), SyntaxError)
})

test('file format detection: JSON opens with [ or {, anything else is the tool format', () => {
  assert.equal(detectPrFileFormat('  \n[]'), 'json')
  assert.equal(detectPrFileFormat('{"datainfo": []}'), 'json')
  assert.equal(detectPrFileFormat('PRAUTO$a$b$c = "1"\n'), 'prserv-tool')
  assert.equal(detectPrFileFormat(''), 'prserv-tool')
})
