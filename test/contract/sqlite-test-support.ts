/** Fixtures of the SQLite-specific store tests: temp directories and a stand-in for BitBake. */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestContext } from 'node:test'
import Database from 'better-sqlite3'
import { openSqlitePrStore } from '../../src/storage/sqlite/sqlite-pr-store.js'
import type {
  SqlitePrStore,
  SqlitePrStoreOptions,
} from '../../src/storage/sqlite/sqlite-pr-store.js'

/** A database path in a fresh temp directory removed when `t` ends. */
export async function tempDatabasePath(t: TestContext, name = 'prserv.sqlite3'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'prserv-sqlite-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  return join(dir, name)
}

/** Opens a store closed when `t` ends (before its temp directory is removed). */
export async function openStoreFor(
  t: TestContext,
  options: SqlitePrStoreOptions,
): Promise<SqlitePrStore> {
  const store = await openSqlitePrStore(options)
  t.after(() => store.close())
  return store
}

/** BitBake's own statements (lib/prserv/db.py, BitBake >= 2.10). */
export const BITBAKE_CREATE_TABLE =
  'CREATE TABLE IF NOT EXISTS PRMAIN (version TEXT NOT NULL, pkgarch TEXT NOT NULL, ' +
  'checksum TEXT NOT NULL, value TEXT, PRIMARY KEY (version, pkgarch, checksum, value));'

/** A connection that behaves like a BitBake PR server on the file (creating it if needed). */
export function openAsBitBake(path: string): Database.Database {
  const db = new Database(path, { timeout: 10_000 })
  db.pragma('synchronous = OFF')
  db.pragma('journal_mode = WAL')
  db.exec(BITBAKE_CREATE_TABLE)
  return db
}

/** Inserts rows the way BitBake stores a value. */
export function insertAsBitBake(
  db: Database.Database,
  rows: readonly (readonly [string, string, string, string | null])[],
): void {
  const insert = db.prepare<[string, string, string, string | null]>(
    'INSERT OR IGNORE INTO PRMAIN (version, pkgarch, checksum, value) VALUES (?, ?, ?, ?)',
  )
  db.transaction(() => {
    for (const row of rows) insert.run(...row)
  })()
}

/** The schema entries of PRMAIN (table and indexes), to prove we never alter it. */
export function prmainSchema(db: Database.Database): unknown[] {
  return [
    db
      .prepare("SELECT type, name, sql FROM sqlite_master WHERE tbl_name = 'PRMAIN' ORDER BY name")
      .all(),
    db.prepare("SELECT * FROM pragma_table_info('PRMAIN')").all(),
  ]
}

/** Names of every table and index in the file. */
export function schemaNames(db: Database.Database): string[] {
  return db
    .prepare<[], { name: string }>('SELECT name FROM sqlite_master ORDER BY name')
    .all()
    .map((row) => row.name)
}
