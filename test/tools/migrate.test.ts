/**
 * `prserv migrate` end to end on real databases: a BitBake-made SQLite file (old and new
 * tables) to PostgreSQL and back, idempotency, conflicts (one row per page too), the 2011
 * layout, a source that is never written, and one that is released after a failure.
 */
import { strict as assert } from 'node:assert'
import { createHash } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import Database from 'better-sqlite3'
import postgres from 'postgres'
import { formatMigrationReport, runMigration } from '../../src/cli/migrate-command.js'
import type { StorageConfig } from '../../src/config/config.js'
import { ConfigError } from '../../src/protocol/errors.js'
import type { AuditedPrRow } from '../../src/services/prserv/pr-store.js'
import { openSqlitePrStore } from '../../src/storage/sqlite/sqlite-pr-store.js'
import { makeTempDir } from '../support/pr-server.js'
import {
  allRows,
  captureEnv,
  makeAncientFile,
  makeBitBakeFile,
  openStore,
  postgresStorage,
} from './tool-test-support.js'

const PEER = '192.0.2.10:50000'

function sqlite(path: string): StorageConfig {
  return { kind: 'sqlite', path }
}

function fileHash(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex')
}

function legacyRow(version: string, checksum: string, value: string): AuditedPrRow {
  return { version, pkgarch: 'core2-64', checksum, value, createdAt: null, peer: null }
}

void test('migrate: a BitBake file moves to PostgreSQL and back with its audit trail', async (t) => {
  const dir = await makeTempDir(t)
  const source = join(dir, 'prserv.sqlite3')
  makeBitBakeFile(source)
  // Our server then served the file: rows with an audit trail next to BitBake's.
  const served = await openSqlitePrStore({ path: source, readOnly: false })
  const key = { version: 'busybox-1.36-r0', pkgarch: 'core2-64' }
  assert.equal(await served.getPr({ ...key, checksum: 'ours' }, false, { peer: PEER }), '2')
  await served.importOne({ ...key, checksum: 'dotted' }, '1.3', { peer: PEER })
  const prmainRows = await allRows(served)
  await served.close()
  const sourceHash = fileHash(source)

  const postgres = await postgresStorage(t)
  const captured = captureEnv(dir, { isTTY: true })
  const there = await runMigration(sqlite(source), postgres, { batchRows: 2, env: captured.env })
  assert.deepEqual(
    [there.read, there.written, there.skipped, there.conflicts, there.missing],
    [10, 10, 0, 0, 0],
  )
  assert.deepEqual(there.readByTable, { PRMAIN_nohist: 5, PRMAIN: 5 })
  assert.equal(there.isVerified, true)
  assert.match(captured.stderr(), /migrate \[#{30}\] 100% 10\/10 rows\n$/)

  const expected = [
    legacyRow('busybox-1.36-r0', 'old0', '0'),
    legacyRow('busybox-1.36-r0', 'old1', '1'),
    legacyRow('busybox-1.36-r0', 'old2', '2'),
    legacyRow('busybox-1.36-r0', 'old3', '3'),
    legacyRow('zlib-1.3-r0', 'oldz', '12'),
    ...prmainRows,
  ]
  assert.deepEqual(await allRows(await openStore(t, postgres, true)), expected)
  assert.ok(prmainRows.some((row) => row.peer === PEER && row.createdAt !== null))

  const again = await runMigration(sqlite(source), postgres, { batchRows: 3, env: captured.env })
  assert.deepEqual([again.read, again.written, again.skipped, again.isVerified], [10, 0, 10, true])

  const back = join(dir, 'back.sqlite3')
  const returned = await runMigration(postgres, sqlite(back), {
    batchRows: 1000,
    env: captured.env,
  })
  assert.deepEqual([returned.read, returned.written, returned.isVerified], [10, 10, true])
  assert.deepEqual(await allRows(await openStore(t, sqlite(back), true)), expected)
  // The copy is still a BitBake database.
  const bitbake = new Database(back, { readonly: true })
  t.after(() => bitbake.close())
  const count = bitbake.prepare<[], { n: number }>('SELECT count(*) AS n FROM PRMAIN').get()
  assert.equal(count?.n, 10)

  assert.equal(fileHash(source), sourceHash, 'the source file is never written')
})

void test('migrate: conflicts are written and counted, PG to PG, 2011 PRMAIN is reported', async (t) => {
  const dir = await makeTempDir(t)
  const ancient = join(dir, 'ancient.sqlite3')
  makeAncientFile(ancient)
  const first = await postgresStorage(t)
  const firstStore = await openStore(t, first)
  const held = { version: 'zlib-1.3-r0', pkgarch: 'all', checksum: 'z', createdAt: null }
  await firstStore.importRows([{ ...held, value: '9', peer: 'earlier' }])

  const { env, exitCode } = captureEnv(dir)
  const report = await runMigration(sqlite(ancient), first, { batchRows: 10, env })
  assert.deepEqual(
    [report.read, report.written, report.conflicts, report.destinationRowsAfter],
    [1, 1, 1, 2],
  )
  assert.equal(report.notMigrated.length, 1)
  assert.equal(report.notMigrated[0]?.rows, 2)
  const text = formatMigrationReport(report)
  assert.match(text, /^conflicts: +1 /m)
  assert.match(text, /^not migrated: 2 rows of PRMAIN: columns \(version, checksum, value\)/m)
  assert.equal(await firstStore.maxPackagePr(held), '9')
  assert.equal(exitCode(), undefined)

  const second = await postgresStorage(t)
  const copied = await runMigration(first, second, { batchRows: 10, env })
  assert.deepEqual(
    [copied.read, copied.written, copied.conflicts, copied.isVerified],
    [2, 2, 0, true],
  )
  assert.deepEqual(await allRows(await openStore(t, second, true)), await allRows(firstStore))

  await assert.rejects(runMigration(first, first, { batchRows: 10, env }), ConfigError)
  await assert.rejects(
    runMigration(sqlite(join(dir, 'missing.sqlite3')), second, { batchRows: 10, env }),
    /does not exist/,
  )
})

void test('migrate: one row per page counts conflicts and repeats as a whole run does', async (t) => {
  const dir = await makeTempDir(t)
  const source = join(dir, 'pages.sqlite3')
  const seeded = await openSqlitePrStore({ path: source, readOnly: false })
  const row = (checksum: string, value: string): AuditedPrRow => {
    return { ...legacyRow('v-1.0-r0', checksum, value), peer: PEER }
  }
  // Key k holds two values in the source; k2 holds one, and the destination another.
  await seeded.importRows([row('k', '1'), row('k', '2'), row('k2', '5')])
  await seeded.close()
  // The same row k=1 in BitBake's pre-2.10 table: copied first, then repeated by PRMAIN.
  const db = new Database(source)
  db.exec(`CREATE TABLE PRMAIN_hist (version TEXT NOT NULL, pkgarch TEXT NOT NULL,
    checksum TEXT NOT NULL, value INTEGER, PRIMARY KEY (version, pkgarch, checksum));
    INSERT INTO PRMAIN_hist VALUES ('v-1.0-r0', 'core2-64', 'k', 1)`)
  db.close()
  const destination = await postgresStorage(t)
  const held = await openStore(t, destination)
  await held.importRows([row('k2', '4')])

  const { env } = captureEnv(dir)
  const report = await runMigration(sqlite(source), destination, { batchRows: 1, env })
  assert.deepEqual(
    [report.read, report.written, report.skipped, report.conflicts, report.missing],
    [4, 3, 1, 1, 0],
  )
  assert.deepEqual(report.readByTable, { PRMAIN_hist: 1, PRMAIN: 3 })
  assert.deepEqual(
    [report.destinationRowsBefore, report.destinationRowsAfter, report.isVerified],
    [1, 4, true],
  )
  // Again: everything is there, nothing is a conflict any more.
  const again = await runMigration(sqlite(source), destination, { batchRows: 1, env })
  assert.deepEqual([again.written, again.skipped, again.conflicts], [0, 4, 0])
})

void test('migrate: a PostgreSQL source is released when the destination cannot be opened', async (t) => {
  const dir = await makeTempDir(t)
  const source = await postgresStorage(t)
  const seeded = await openStore(t, source)
  await seeded.importRows([legacyRow('v-1.0-r0', 'k', '1')])
  const notADirectory = join(dir, 'file')
  writeFileSync(notADirectory, '')
  const { env } = captureEnv(dir)
  await assert.rejects(
    runMigration(source, sqlite(join(notADirectory, 'copy.sqlite3')), { batchRows: 10, env }),
  )
  assert.equal(source.kind, 'postgres')
  const sql = postgres(source.url, { max: 1, onnotice: () => undefined })
  t.after(() => sql.end())
  // The tool's sessions end once its pool is closed; the server notices within moments.
  for (let attempt = 0; ; attempt++) {
    const [row] = await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM pg_stat_activity
      WHERE datname = current_database() AND application_name = 'prserv-tool'
        AND pid <> pg_backend_pid()`
    // `seeded` is a tool store too, and stays open: one session at most is its own.
    if ((row?.n ?? 0) <= 1 || attempt === 50) {
      assert.ok((row?.n ?? 0) <= 1, `${row?.n} tool sessions left`)
      break
    }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
})
