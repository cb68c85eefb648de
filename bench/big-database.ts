// Builds the alloc-1-big database: BitBake's own PRMAIN table with one huge package, written
// directly (not over the wire) before the server starts.
import Database from 'better-sqlite3'
import { BENCH_PKGARCH, formatChecksum } from './pr-requests.js'

/** The package that holds the pre-loaded rows; alloc-1-big allocates on it. */
export const BIG_PACKAGE_VERSION = 'bench-big-1.0-r0'

/** BitBake's table, exactly as prserv.md §6.1 gives it. */
const CREATE_PRMAIN_SQL = `CREATE TABLE IF NOT EXISTS PRMAIN (
  version TEXT NOT NULL,
  pkgarch TEXT NOT NULL,
  checksum TEXT NOT NULL,
  value TEXT,
  PRIMARY KEY (version, pkgarch, checksum, value)
)`

/**
 * Creates `path` with `rowCount` rows for BIG_PACKAGE_VERSION, values "0".."rowCount-1", in one
 * transaction, in WAL mode as BitBake leaves its files.
 */
export function createBigDatabase(path: string, rowCount: number): void {
  const db = new Database(path)
  try {
    db.pragma('journal_mode = WAL')
    db.exec(CREATE_PRMAIN_SQL)
    const insert = db.prepare(
      'INSERT INTO PRMAIN (version, pkgarch, checksum, value) VALUES (?, ?, ?, ?)',
    )
    const insertAll = db.transaction((count: number) => {
      for (let i = 0; i < count; i += 1) {
        insert.run(BIG_PACKAGE_VERSION, BENCH_PKGARCH, formatChecksum('b', i), String(i))
      }
    })
    insertAll(rowCount)
    db.pragma('wal_checkpoint(TRUNCATE)')
  } finally {
    db.close()
  }
}
