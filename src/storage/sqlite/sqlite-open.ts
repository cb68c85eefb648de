/**
 * Opening the database file: the writer connection (creates the file, BitBake's table and our
 * side tables, brings the ordering index up to date), read connections (never write), and a
 * one-off read of a file as the data tools make it.
 */
import { existsSync, mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import Database from 'better-sqlite3'
import { StorageError } from '../../protocol/errors.js'
import { CURRENT_SCHEMA_VERSION, migrateSchema } from './sqlite-migrations.js'
import { isOrderIndexInSync, rebuildOrderIndex, SqliteRowWriter } from './sqlite-order-index.js'
import { checkPrmainLayout, hasTable, PRMAIN_DDL, readSchemaVersion } from './sqlite-schema.js'
import type { WriterStartup } from './sqlite-writer-protocol.js'

/** The writer connection with its row writer, ready for batches. */
export interface WriterDatabase {
  readonly db: Database.Database
  readonly rowWriter: SqliteRowWriter
  readonly startup: WriterStartup
}

/**
 * Opens (creating parent directories and the file) the read-write connection: WAL,
 * synchronous=FULL, busy timeout; creates PRMAIN as BitBake does, migrates our side tables,
 * rebuilds a stale ordering index and indexes rows other software appended.
 */
export function openWriterDatabase(path: string, busyTimeoutMs: number): WriterDatabase {
  let db: Database.Database
  try {
    mkdirSync(dirname(path), { recursive: true })
    db = new Database(path, { timeout: busyTimeoutMs })
  } catch (error: unknown) {
    throw new StorageError(`cannot open SQLite database ${path} read-write`, { cause: error })
  }
  try {
    const mode = db.pragma('journal_mode = WAL', { simple: true })
    const journalMode = typeof mode === 'string' ? mode : 'unknown'
    db.pragma('synchronous = FULL')
    db.exec(PRMAIN_DDL)
    checkPrmainLayout(db, path)
    const migration = migrateSchema(db, path)
    const rowWriter = new SqliteRowWriter(db)
    const sync = db.transaction(() => {
      const isStale = !isOrderIndexInSync(db)
      if (isStale) rebuildOrderIndex(db)
      return { rebuiltOrderIndex: isStale, caughtUpRows: rowWriter.catchUp() }
    })
    const { rebuiltOrderIndex, caughtUpRows } = sync.immediate()
    const startup: WriterStartup = {
      schemaFromVersion: migration.fromVersion,
      schemaToVersion: migration.toVersion,
      journalMode,
      rebuiltOrderIndex,
      caughtUpRows,
    }
    return { db, rowWriter, startup }
  } catch (error: unknown) {
    db.close()
    if (error instanceof StorageError) throw error
    throw new StorageError(`cannot prepare SQLite database ${path}`, { cause: error })
  }
}

/** A read connection and whether its ordering index may be used. */
export interface ReadDatabase {
  readonly db: Database.Database
  readonly isIndexed: boolean
}

/**
 * Opens a connection that never writes (SQLite read-only mode). For a read-only store
 * (`requireIndex` false) the file and PRMAIN must exist; without a current, in-sync ordering
 * index reads fall back to scanning packages. A read-write store opens it after the writer
 * has prepared the file, so the index is used.
 */
export function openReadDatabase(
  path: string,
  busyTimeoutMs: number,
  requireIndex: boolean,
): ReadDatabase {
  if (!existsSync(path)) {
    throw new StorageError(
      `SQLite database ${path} does not exist (read-only mode never creates it)`,
    )
  }
  let db: Database.Database
  try {
    db = new Database(path, { readonly: true, fileMustExist: true, timeout: busyTimeoutMs })
  } catch (error: unknown) {
    throw new StorageError(`cannot open SQLite database ${path} read-only`, { cause: error })
  }
  try {
    if (!hasTable(db, 'PRMAIN')) {
      throw new StorageError(
        `SQLite database ${path} has no PRMAIN table (read-only mode never creates it)`,
      )
    }
    checkPrmainLayout(db, path)
    const isIndexed = requireIndex || hasUsableIndex(db, path)
    return { db, isIndexed }
  } catch (error: unknown) {
    db.close()
    if (error instanceof StorageError) throw error
    throw new StorageError(`cannot read SQLite database ${path}`, { cause: error })
  }
}

function hasUsableIndex(db: Database.Database, path: string): boolean {
  const check = db.transaction(() => {
    const version = readSchemaVersion(db)
    if (version > CURRENT_SCHEMA_VERSION) {
      throw new StorageError(
        `database ${path} has prserv schema version ${version}, ` +
          `newer than this server's ${CURRENT_SCHEMA_VERSION}`,
      )
    }
    return version === CURRENT_SCHEMA_VERSION && isOrderIndexInSync(db)
  })
  return check.deferred()
}

/**
 * Runs `read` on a plain read-only connection to the existing file `path`, closed afterwards:
 * a file in any journal mode works and nothing is created or written. Throws a StorageError
 * when the file does not exist or cannot be read.
 */
export function readSqliteFile<T>(path: string, read: (db: Database.Database) => T): T {
  if (!existsSync(path)) throw new StorageError(`SQLite database ${path} does not exist`)
  let db: Database.Database | null = null
  try {
    db = new Database(path, { readonly: true, fileMustExist: true })
    return read(db)
  } catch (error: unknown) {
    throw new StorageError(`cannot read SQLite database ${path}`, { cause: error })
  } finally {
    db?.close()
  }
}
