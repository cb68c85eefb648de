/**
 * Numbered, forward-only migrations of our side tables (never of PRMAIN). Each runs inside the
 * write transaction that records its number in `prserv_meta`.
 */
import type Database from 'better-sqlite3'
import { StorageError } from '../../protocol/errors.js'
import {
  META_TABLE_DDL,
  ORDER_INDEX_DDL,
  ORDER_TABLE_DDL,
  readSchemaVersion,
} from './sqlite-schema.js'
import { storedValueSortKey } from './sqlite-order-index.js'

/** One schema step. `version` numbers are consecutive from 1. */
interface Migration {
  readonly version: number
  readonly description: string
  readonly apply: (db: Database.Database) => void
}

const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'ordering index and audit trail (prserv_order)',
    apply: (db) => {
      // Created empty: the start-up catch-up copies every PRMAIN row above the high-water mark.
      db.exec(ORDER_TABLE_DDL)
      for (const ddl of ORDER_INDEX_DDL) db.exec(ddl)
    },
  },
  {
    version: 2,
    description: 'checksum values read through PRMAIN: drop prserv_order_by_checksum',
    apply: (db) => {
      db.exec('DROP INDEX IF EXISTS prserv_order_by_checksum')
    },
  },
  {
    version: 3,
    description: 'sort keys of values PRMAIN stores as numbers (earlier builds left them NULL)',
    apply: (db) => {
      // Such rows were ignored by every maximum, so allocation could repeat their values.
      const missing = db.prepare<[], { rid: number; value: unknown }>(
        'SELECT rid, value FROM prserv_order WHERE sort_key IS NULL AND value IS NOT NULL',
      )
      const update = db.prepare<[string, number]>(
        'UPDATE prserv_order SET sort_key = ? WHERE rid = ?',
      )
      for (const { rid, value } of missing.all()) {
        const key = storedValueSortKey(value)
        if (key !== null) update.run(key, rid)
      }
    },
  },
]

/** The schema version this code reads and writes. */
export const CURRENT_SCHEMA_VERSION = MIGRATIONS.length

/** What `migrateSchema` did, for the start-up log. */
export interface MigrationOutcome {
  readonly fromVersion: number
  readonly toVersion: number
}

/**
 * Brings the side tables to CURRENT_SCHEMA_VERSION in one IMMEDIATE transaction (safe when
 * several servers start on one file). Throws a StorageError for a newer, unknown schema.
 */
export function migrateSchema(db: Database.Database, path: string): MigrationOutcome {
  const run = db.transaction((): MigrationOutcome => {
    db.exec(META_TABLE_DDL)
    const fromVersion = readSchemaVersion(db)
    if (fromVersion > CURRENT_SCHEMA_VERSION) {
      throw new StorageError(
        `database ${path} has prserv schema version ${fromVersion}, ` +
          `newer than this server's ${CURRENT_SCHEMA_VERSION}`,
      )
    }
    const setVersion = db.prepare<[string]>(
      "INSERT OR REPLACE INTO prserv_meta (key, value) VALUES ('schema_version', ?)",
    )
    for (const migration of MIGRATIONS) {
      if (migration.version <= fromVersion) continue
      migration.apply(db)
      setVersion.run(String(migration.version))
    }
    return { fromVersion, toVersion: CURRENT_SCHEMA_VERSION }
  })
  return run.immediate()
}
