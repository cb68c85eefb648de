/**
 * `prserv export` / `prserv import` end to end: real servers over real sockets, SQLite and
 * PostgreSQL databases opened directly, both file formats, and atomic output files.
 */
import { strict as assert } from 'node:assert'
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { test } from 'node:test'
import type { DataTarget } from '../../src/cli/data-target.js'
import { runExport } from '../../src/cli/export-command.js'
import type { ExportOptions } from '../../src/cli/export-command.js'
import { formatImportFailures, runImport } from '../../src/cli/import-command.js'
import type { ImportOptions } from '../../src/cli/import-command.js'
import { addressOf, connectClient, makeTempDir, startTestServer } from '../support/pr-server.js'
import { allRows, captureEnv, openStore, postgresStorage } from './tool-test-support.js'

const NO_FILTER = { version: null, pkgarch: null, checksum: null }
const HEADER =
  '#PR_core_ver = "2.19.0"\n\n#Table: PRMAIN\n#Columns:\n' +
  '#name      \t type    \t notn    \t dflt    \t pk\n' +
  '#----------\t --------\t --------\t --------\t ----\n' +
  '#   version\t     TEXT\t        1\t     None\t    1\n' +
  '#   pkgarch\t     TEXT\t        1\t     None\t    2\n' +
  '#  checksum\t     TEXT\t        1\t     None\t    3\n' +
  '#     value\t     TEXT\t        0\t     None\t    4\n\nPRSERV_LOCKDOWN = "1"\n\n'

function exportOptions(target: DataTarget, file: string, overrides: Partial<ExportOptions> = {}) {
  const options: ExportOptions = {
    target,
    file,
    format: 'prserv-tool',
    filter: { ...NO_FILTER, history: false },
    ...overrides,
  }
  return options
}

function importOptions(target: DataTarget, file: string, overrides: Partial<ImportOptions> = {}) {
  const options: ImportOptions = { target, file, format: 'auto', filter: NO_FILTER, ...overrides }
  return options
}

void test('export: the §7.1 file from a server and from its database, byte for byte', async (t) => {
  const dir = await makeTempDir(t)
  const database = join(dir, 'pr.sqlite3')
  const server = await startTestServer(t, { database })
  const client = connectClient(t, addressOf(server))
  const dummy = { version: 'dummy-1.0-r0', pkgarch: 'core2-64' }
  for (const checksum of ['51bf0', '51bf1', '51bf8189b4a0']) {
    await client.getPr({ ...dummy, checksum })
  }
  await client.getPr({ version: 'other-2.1-r0', pkgarch: 'all', checksum: '7a0c19' })
  const expected =
    'PRAUTO$dummy-1.0-r0$core2-64$51bf8189b4a0 = "2"\n' +
    'PRAUTO_dummy-1.0-r0_core2-64 = "2"\n' +
    'PRAUTO$other-2.1-r0$all$7a0c19 = "0"\n' +
    'PRAUTO_other-2.1-r0_all = "0"\n' +
    HEADER
  const { env, stdout } = captureEnv(dir)
  const serverTarget: DataTarget = { kind: 'server', address: addressOf(server) }
  assert.equal(await runExport(exportOptions(serverTarget, 'prserv.inc'), env), 2)
  assert.equal(await readFile(join(dir, 'prserv.inc'), 'utf8'), expected)
  const databaseTarget: DataTarget = {
    kind: 'database',
    storage: { kind: 'sqlite', path: database },
  }
  await runExport(exportOptions(databaseTarget, '-'), env)
  assert.equal(stdout(), expected)
})

void test('export/import: JSON keeps the audit trail through PostgreSQL; the tool format moves history between servers', async (t) => {
  const dir = await makeTempDir(t)
  const first = await startTestServer(t, { database: join(dir, 'first.sqlite3') })
  const client = connectClient(t, addressOf(first))
  const pkg = { version: 'busybox-1.36-r0', pkgarch: 'core2-64' }
  for (const checksum of ['a', 'b', 'c']) await client.getPr({ ...pkg, checksum })
  await client.importOne({ ...pkg, checksum: 'a' }, '3.1')
  await client.importOne({ version: 'zlib-1.3-r0', pkgarch: 'all', checksum: 'z' }, '7')
  const { env, exitCode } = captureEnv(dir)
  const firstTarget: DataTarget = { kind: 'server', address: addressOf(first) }
  const history = { ...NO_FILTER, history: true }
  await runExport(exportOptions(firstTarget, 'rows.json', { format: 'json', filter: history }), env)
  const exported: unknown = JSON.parse(await readFile(join(dir, 'rows.json'), 'utf8'))
  assert.ok(Array.isArray(exported) && exported.length === 5)
  assert.match(JSON.stringify(exported[0]), /"created":"\d{4}-.*Z","peer":"127\.0\.0\.1:\d+"/)

  const postgres = await postgresStorage(t)
  const pgTarget: DataTarget = { kind: 'database', storage: postgres }
  const stored = await runImport(importOptions(pgTarget, 'rows.json'), env)
  assert.deepEqual([stored.format, stored.read, stored.written, stored.skipped], ['json', 5, 5, 0])
  const pgRows = await allRows(await openStore(t, postgres, true))
  assert.deepEqual(
    pgRows.map(({ version, pkgarch, checksum, value, createdAt, peer }) => {
      return { version, pkgarch, checksum, value, created: createdAt, peer }
    }),
    exported,
  )
  const again = await runImport(importOptions(pgTarget, 'rows.json'), env)
  assert.deepEqual([again.written, again.skipped], [0, 5])
  await runExport(exportOptions(pgTarget, 'pg.json', { format: 'json', filter: history }), env)
  assert.deepEqual(JSON.parse(await readFile(join(dir, 'pg.json'), 'utf8')), exported)

  await runExport(exportOptions(pgTarget, 'history.inc', { filter: history }), env)
  const second = await startTestServer(t, { database: join(dir, 'second.sqlite3') })
  const secondTarget: DataTarget = { kind: 'server', address: addressOf(second) }
  const sent = await runImport(importOptions(secondTarget, 'history.inc'), env)
  assert.deepEqual(
    [sent.format, sent.read, sent.accepted, sent.written],
    ['prserv-tool', 5, 5, null],
  )
  const secondRows = await allRows(
    await openStore(t, { kind: 'sqlite', path: join(dir, 'second.sqlite3') }, true),
  )
  const values = (rows: readonly { checksum: string; value: string | null }[]) =>
    rows.map((row) => `${row.checksum}:${row.value ?? ''}`)
  assert.deepEqual(values(secondRows), values(pgRows))
  assert.equal(exitCode(), undefined)
})

void test('import: unusable lines, filters, stdin and a read-only server', async (t) => {
  const dir = await makeTempDir(t)
  const database = join(dir, 'pr.sqlite3')
  await writeFile(
    join(dir, 'mixed.inc'),
    'PRAUTO$a-1$x86$c1 = "4"\nPRAUTO$b-1$x86$c2 = "0.2"\nPRAUTO$a-1$x86$c3 = "x"\nnonsense\n',
  )
  const target: DataTarget = { kind: 'database', storage: { kind: 'sqlite', path: database } }
  const { env } = captureEnv(dir)
  const filtered = await runImport(
    importOptions(target, 'mixed.inc', { filter: { ...NO_FILTER, version: 'a-1' } }),
    env,
  )
  assert.deepEqual([filtered.read, filtered.filteredOut, filtered.written], [2, 1, 1])
  assert.deepEqual(
    filtered.problems.map((problem) => problem.where),
    ['line 3', 'line 4'],
  )
  assert.match(formatImportFailures(filtered), /^prserv import: line 3: value "x" of/)

  const piped = captureEnv(dir, {
    stdin: '[{"version":"a-1","pkgarch":"x86","checksum":"c1","value":"4"}]',
  })
  const fromStdin = await runImport(importOptions(target, '-'), piped.env)
  assert.deepEqual([fromStdin.format, fromStdin.written, fromStdin.skipped], ['json', 0, 1])

  const readOnly = await startTestServer(t, { database, readOnly: true })
  const refused = await runImport(
    importOptions({ kind: 'server', address: addressOf(readOnly) }, 'mixed.inc'),
    env,
  )
  assert.deepEqual([refused.accepted, refused.failed.length], [0, 2])
  assert.equal(refused.failed[0]?.message, 'the server is read-only')
})

void test('export: output is atomic; a missing directory is an error and leaves nothing', async (t) => {
  const dir = await makeTempDir(t)
  const database = join(dir, 'pr.sqlite3')
  const store = await openStore(t, { kind: 'sqlite', path: database })
  await store.importRows([
    { version: 'v', pkgarch: 'a', checksum: 'c', value: '1', createdAt: null, peer: null },
  ])
  const target: DataTarget = { kind: 'database', storage: { kind: 'sqlite', path: database } }
  const { env } = captureEnv(dir)
  const before = (await readdir(dir)).sort()
  await assert.rejects(runExport(exportOptions(target, join('missing', 'x.inc')), env), {
    code: 'ENOENT',
  })
  assert.deepEqual((await readdir(dir)).sort(), before)

  await writeFile(join(dir, 'out.inc'), 'old contents\n')
  await runExport(exportOptions(target, 'out.inc'), env)
  assert.match(await readFile(join(dir, 'out.inc'), 'utf8'), /^PRAUTO\$v\$a\$c = "1"\n/)
  // A target that a file cannot replace (a directory) fails and leaves no temp file behind.
  await mkdir(join(dir, 'a-directory'))
  await assert.rejects(runExport(exportOptions(target, 'a-directory'), env), { code: 'EISDIR' })
  assert.deepEqual((await readdir(dir)).sort(), [...before, 'a-directory', 'out.inc'].sort())
  assert.deepEqual(await readdir(join(dir, 'a-directory')), [])
})
