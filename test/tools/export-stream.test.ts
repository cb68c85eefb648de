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
import { isFullHistoryExport, pageStore } from '../../src/services/prserv/pr-store.js'
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
  const empty = collectingSink()
  assert.equal(await streamJsonExport(pageStore(store, 3), empty.sink), 0)
  assert.equal(empty.text(), '[]\n')

  await store.importRows(interleavedRows())
  const rows = await allRows(store)
  assert.equal(rows.length, 23)
  for (const pageRows of [1, 4, 23, 100]) {
    const json = collectingSink()
    assert.equal(await streamJsonExport(pageStore(store, pageRows), json.sink), 23)
    assert.equal(json.text(), formatPrRowsJson(rows), `json, pages of ${pageRows}`)
    const tool = collectingSink()
    assert.equal(await streamPrservToolExport(store, PR_COLUMN_INFO, tool.sink, pageRows), 23)
    assert.equal(tool.text(), formatPrservToolFile(rows, PR_COLUMN_INFO), `tool, ${pageRows}`)
  }
  assert.match(formatPrservToolFile(rows, PR_COLUMN_INFO), /PRAUTO_pkg3-1\.0-r0_core2-64 = "19"/)
}

void test('export stream: SQLite, both formats, any page size, as the whole-file formatters', async (t) => {
  const dir = await makeTempDir(t)
  await checkStreams(t, { kind: 'sqlite', path: join(dir, 'pr.sqlite3') })
})

void test('export stream: PostgreSQL, both formats, any page size, as the whole-file formatters', async (t) => {
  await checkStreams(t, await postgresStorage(t))
})

void test('export stream: only a full history export streams, to a file or to stdout', async (t) => {
  const none = { version: null, pkgarch: null, checksum: null }
  assert.equal(isFullHistoryExport({ ...none, history: true }), true)
  assert.equal(isFullHistoryExport({ ...none, version: '', history: true }), true)
  assert.equal(isFullHistoryExport({ ...none, history: false }), false)
  assert.equal(isFullHistoryExport({ ...none, pkgarch: 'all', history: true }), false)

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
})
