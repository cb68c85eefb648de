import { strict as assert } from 'node:assert'
import { test } from 'node:test'
import { PR_COLUMN_INFO } from './pr-methods.js'
import {
  formatHeader,
  formatPrservToolFile,
  parsePrservToolFile,
  parsePrTableInfo,
  PrservToolParser,
} from './prserv-tool-format.js'

const HEADER = [
  '#PR_core_ver = "2.19.0"',
  '',
  '#Table: PRMAIN',
  '#Columns:',
  '#name      \t type    \t notn    \t dflt    \t pk',
  '#----------\t --------\t --------\t --------\t ----',
  '#   version\t     TEXT\t        1\t     None\t    1',
  '#   pkgarch\t     TEXT\t        1\t     None\t    2',
  '#  checksum\t     TEXT\t        1\t     None\t    3',
  '#     value\t     TEXT\t        0\t     None\t    4',
  '',
  'PRSERV_LOCKDOWN = "1"',
  '',
  '',
].join('\n')

test('prserv-tool format: the §7.1 example, byte for byte', () => {
  const text = formatPrservToolFile(
    [
      { version: 'dummy-1.0-r0', pkgarch: 'core2-64', checksum: '51bf8189b4a0', value: '2' },
      { version: 'other-2.1-r0', pkgarch: 'all', checksum: '7a0c19', value: '0' },
    ],
    PR_COLUMN_INFO,
  )
  const expected =
    'PRAUTO$dummy-1.0-r0$core2-64$51bf8189b4a0 = "2"\n' +
    'PRAUTO_dummy-1.0-r0_core2-64 = "2"\n' +
    'PRAUTO$other-2.1-r0$all$7a0c19 = "0"\n' +
    'PRAUTO_other-2.1-r0_all = "0"\n' +
    HEADER
  assert.equal(text, expected)
})

test('prserv-tool format: an empty export is the header block alone', () => {
  assert.equal(formatPrservToolFile([], PR_COLUMN_INFO), HEADER)
  assert.equal(formatHeader(PR_COLUMN_INFO), HEADER)
})

test('prserv-tool format: batches per version, PRAUTO_ per pkgarch with the numeric max', () => {
  const row = (version: string, pkgarch: string, checksum: string, value: string | null) => ({
    version,
    pkgarch,
    checksum,
    value,
  })
  const text = formatPrservToolFile(
    [
      row('a-1', 'x86', 'c1', '9'),
      row('b-1', 'all', 'c2', '0'),
      row('a-1', 'arm', 'c3', '1.2'),
      row('a-1', 'x86', 'c4', '10'),
      row('a-1', 'arm', 'c5', '1.10'),
      row('a-1', 'arm', 'c6', 'junk'),
      row('c-1', 'all', 'c7', null),
    ],
    PR_COLUMN_INFO,
  )
  const data = text.slice(0, text.indexOf('#PR_core_ver'))
  assert.equal(
    data,
    [
      'PRAUTO$a-1$x86$c1 = "9"',
      'PRAUTO$a-1$arm$c3 = "1.2"',
      'PRAUTO$a-1$x86$c4 = "10"',
      'PRAUTO$a-1$arm$c5 = "1.10"',
      'PRAUTO$a-1$arm$c6 = "junk"',
      'PRAUTO_a-1_x86 = "10"',
      'PRAUTO_a-1_arm = "1.10"',
      'PRAUTO$b-1$all$c2 = "0"',
      'PRAUTO_b-1_all = "0"',
      'PRAUTO$c-1$all$c7 = "None"',
      'PRAUTO_c-1_all = "None"',
      '',
    ].join('\n'),
  )
})

test('prserv-tool format: the header pads like Python and never cuts', () => {
  const text = formatHeader({
    tbl_name: 'T',
    core_ver: 1,
    col_info: [
      { name: 'a_very_long_name', type: 'INTEGER', notnull: true, dflt_value: 'x', pk: 0 },
    ],
  })
  assert.match(text, /^#PR_core_ver = "1"\n/)
  assert.ok(text.includes('\n#a_very_long_name\t  INTEGER\t     True\t        x\t    0\n'))
})

test('prserv-tool format: import reads PRAUTO$ lines, dotted values included', () => {
  const exported = formatPrservToolFile(
    [
      { version: 'a-1', pkgarch: 'x86', checksum: 'c1', value: '3' },
      { version: 'a-1', pkgarch: 'x86', checksum: 'c1', value: '0.3' },
    ],
    PR_COLUMN_INFO,
  )
  const parsed = parsePrservToolFile(`${exported}PRAUTO$b$all$c2 ?= "x"\r\n`)
  assert.deepEqual(parsed.rows, [
    { version: 'a-1', pkgarch: 'x86', checksum: 'c1', value: '3' },
    { version: 'a-1', pkgarch: 'x86', checksum: 'c1', value: '0.3' },
  ])
  assert.deepEqual(parsed.problems, [
    { where: 'line 17', message: 'expected "=" in the assignment of "PRAUTO$b$all$c2", got "?="' },
  ])
})

test('prserv-tool format: import reports every line it cannot use', () => {
  const parsed = parsePrservToolFile(
    [
      '# comment',
      'OTHER_VAR = "anything"',
      "export PRAUTO$v$a$c = '5'",
      'PRAUTO$v$a = "1"',
      'PRAUTO$v$a$c$d = "1"',
      'PRAUTO$v$a$c = "1a"',
      'PRAUTO$v$a$c = ""',
      'include foo.inc',
      '   PRAUTO$v$b$c   =   "7"   ',
      `PRAUTO$v$a$${'c'.repeat(513)} = "1"`,
    ].join('\n'),
  )
  assert.deepEqual(parsed.rows, [
    { version: 'v', pkgarch: 'a', checksum: 'c', value: '5' },
    { version: 'v', pkgarch: 'b', checksum: 'c', value: '7' },
  ])
  assert.deepEqual(
    parsed.problems.map((problem) => problem.where),
    ['line 4', 'line 5', 'line 6', 'line 7', 'line 8', 'line 10'],
  )
  assert.match(parsed.problems[5]?.message ?? '', /^checksum is over 512 bytes in "PRAUTO\$v\$a\$c/)
  assert.match(parsed.problems[2]?.message ?? '', /"1a" .* is not a revision/)
  assert.match(parsed.problems[4]?.message ?? '', /not a BitBake assignment: "include foo.inc"/)
})

test('prserv-tool format: column information from an export reply', () => {
  const reply: unknown = JSON.parse(JSON.stringify(PR_COLUMN_INFO))
  assert.deepEqual(parsePrTableInfo(reply), PR_COLUMN_INFO)
  assert.equal(parsePrTableInfo({}), null)
  assert.equal(parsePrTableInfo({ tbl_name: 'T', core_ver: '1', col_info: [{ name: 'x' }] }), null)
  assert.deepEqual(parsePrTableInfo({ tbl_name: 'T', core_ver: '1', col_info: [] }), {
    tbl_name: 'T',
    core_ver: '1',
    col_info: [],
  })
})

test('prserv-tool format: a file given in pieces reads as when given whole', () => {
  const text = [
    '# comment',
    'PRAUTO$v$a$c1 = "1"',
    'PRAUTO$v$a$c2 = "2.1"\r',
    'not an assignment',
    '',
    'PRAUTO$v$a$c3 = "3"',
  ].join('\n')
  for (const ending of ['', '\n', '\r\n']) {
    const whole = parsePrservToolFile(text + ending)
    assert.equal(whole.rows.length, 3)
    assert.deepEqual(whole.problems, [
      { where: 'line 4', message: 'not a BitBake assignment: "not an assignment"' },
    ])
    for (let cut = 0; cut <= text.length + ending.length; cut++) {
      const parser = new PrservToolParser()
      const pieces = [
        parser.push((text + ending).slice(0, cut)),
        parser.push((text + ending).slice(cut)),
        parser.end(),
      ]
      assert.deepEqual(
        pieces.flatMap((piece) => piece.rows),
        whole.rows,
        `cut ${cut}`,
      )
      assert.deepEqual(
        pieces.flatMap((piece) => piece.problems),
        whole.problems,
        `cut ${cut}`,
      )
    }
  }
})
