/**
 * The streamed full export (pr-export-stream.ts) against real SQLite and PostgreSQL stores, in
 * pages smaller than the data: the same text as the whole-file formatters make, and what
 * `prserv export --history` from a database writes.
 */
import { strict as assert } from 'node:assert'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { test } from 'node:test'
import type { TestContext } from 'node:test'
import type { StorageConfig } from '../../src/config/config.js'
import { runExport } from '../../src/cli/export-command.js'
import { PR_COLUMN_INFO } from '../../src/services/prserv/pr-methods.js'
import { formatPrRowsJson } from '../../src/services/prserv/pr-json-format.js'
import {
  streamJsonExport,
  streamPrservToolExport,
} from '../../src/services/prserv/pr-export-stream.js'
import {
  isFullHistoryExport,
  isUnfilteredExport,
  pageUnfilteredExport,
} from '../../src/services/prserv/pr-store.js'
import type { AuditedPrRow, PrStore } from '../../src/services/prserv/pr-store.js'
import { formatPrservToolFile } from '../../src/services/prserv/prserv-tool-format.js'
import { makeTempDir } from '../support/pr-server.js'
import { allRows, captureEnv, openStore, postgresStorage } from './tool-test-support.js'

/** Rows whose versions interleave, so a version's batch gathers rows from several pages. */
function interleavedRows(): AuditedPrRow[] {
  const rows: AuditedPrRow[] = []
  for (let n = 0; n < 23; n++) {
    rows.push({
      version: `pkg${n % 4}-1.0-r0`,
      pkgarch: n % 3 === 0 ? 'all' : 'core2-64',
      checksum: `c${n}`,
      value: n === 7 ? '10.1' : String(n),
      createdAt: n % 2 === 0 ? '2026-11-24T05:00:00.000Z' : null,
      peer: n % 5 === 0 ? `10.0.0.${n}:4000` : null,
    })
  }
  return rows
}

/** Collects the text a stream writes. */
function collectingSink(): { sink: (text: string) => Promise<void>; text: () => string } {
  const pieces: string[] = []
  return {
    sink: (text) => {
      pieces.push(text)
      return Promise.resolve()
    },
    text: () => pieces.join(''),
  }
}

async function checkStreams(t: TestContext, storage: StorageConfig): Promise<void> {
  const store: PrStore = await openStore(t, storage)
  for (const history of [true, false]) {
    const empty = collectingSink()
    const pages = pageUnfilteredExport(store, history, 3)
    assert.equal(await streamJsonExport(pages, empty.sink), 0)
    assert.equal(empty.text(), '[]\n')
  }

  // A tie with a package maximum, and a value that is no revision.
  const extra = { pkgarch: 'core2-64', createdAt: null, peer: null }
  await store.importRows([
    ...interleavedRows(),
    { ...extra, version: 'pkg1-1.0-r0', checksum: 'twin', value: '17' },
    { ...extra, version: 'pkg2-1.0-r0', checksum: 'junk', value: 'zzz' },
  ])
  for (const history of [true, false]) {
    const filter = { version: null, pkgarch: null, checksum: null, history }
    const rows = await store.exportRows(filter)
    assert.equal(rows.length, history ? 25 : 9)
    for (const pageRows of [1, 4, 23, 100]) {
      const label = `history ${history}, pages of ${pageRows}`
      const json = collectingSink()
      const pages = pageUnfilteredExport(store, history, pageRows)
      assert.equal(await streamJsonExport(pages, json.sink), rows.length)
      assert.equal(json.text(), formatPrRowsJson(rows), `json, ${label}`)
      const tool = collectingSink()
      const count = await streamPrservToolExport(
        store,
        PR_COLUMN_INFO,
        history,
        tool.sink,
        pageRows,
      )
      assert.equal(count, rows.length)
      assert.equal(tool.text(), formatPrservToolFile(rows, PR_COLUMN_INFO), `tool, ${label}`)
    }
  }
  const rows = await allRows(store)
  assert.match(formatPrservToolFile(rows, PR_COLUMN_INFO), /PRAUTO_pkg3-1\.0-r0_core2-64 = "19"/)
}

void test('export stream: SQLite, both formats, any page size, as the whole-file formatters', async (t) => {
  const dir = await makeTempDir(t)
  await checkStreams(t, { kind: 'sqlite', path: join(dir, 'pr.sqlite3') })
})

void test('export stream: PostgreSQL, both formats, any page size, as the whole-file formatters', async (t) => {
  await checkStreams(t, await postgresStorage(t))
})

void test('export stream: unfiltered exports stream, to a file or to stdout', async (t) => {
  const none = { version: null, pkgarch: null, checksum: null }
  assert.equal(isFullHistoryExport({ ...none, history: true }), true)
  assert.equal(isFullHistoryExport({ ...none, version: '', history: true }), true)
  assert.equal(isFullHistoryExport({ ...none, history: false }), false)
  assert.equal(isFullHistoryExport({ ...none, pkgarch: 'all', history: true }), false)
  assert.equal(isUnfilteredExport({ ...none, history: false }), true)
  assert.equal(isUnfilteredExport({ ...none, checksum: '', history: false }), true)
  assert.equal(isUnfilteredExport({ ...none, version: 'v', history: true }), false)

  const dir = await makeTempDir(t)
  const storage: StorageConfig = { kind: 'sqlite', path: join(dir, 'pr.sqlite3') }
  const store = await openStore(t, storage)
  await store.importRows(interleavedRows())
  const rows = await allRows(store)
  const { env, stdout } = captureEnv(dir)
  const target = { kind: 'database', storage } as const
  const filter = { ...none, history: true }
  const format = 'prserv-tool'
  assert.equal(await runExport({ target, filter, format, file: 'out.inc' }, env), 23)
  const text = await readFile(join(dir, 'out.inc'), 'utf8')
  assert.equal(text, formatPrservToolFile(rows, PR_COLUMN_INFO))
  assert.equal(await runExport({ target, filter, format: 'json', file: '-' }, env), 23)
  assert.equal(stdout(), formatPrRowsJson(rows))
  const maxima = await store.exportRows({ ...none, history: false })
  const noHistory = { target, filter: { ...none, history: false }, format: 'json' } as const
  const before = stdout().length
  assert.equal(await runExport({ ...noHistory, file: '-' }, env), maxima.length)
  assert.equal(stdout().slice(before), formatPrRowsJson(maxima))
})
