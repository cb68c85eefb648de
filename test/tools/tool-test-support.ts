/**
 * Fixtures of the data tool tests (`export`, `import`, `migrate`): a captured process
 * environment, throwaway databases, and a PR database made the way BitBake makes one.
 */
import { Readable } from 'node:stream'
import type { TestContext } from 'node:test'
import Database from 'better-sqlite3'
import type { StorageConfig } from '../../src/config/config.js'
import type { ToolCommandEnv } from '../../src/cli/tool-env.js'
import type { AuditedPrRow, PrStore } from '../../src/services/prserv/pr-store.js'
import { openToolStore } from '../../src/cli/data-target.js'
import { insertAsBitBake, openAsBitBake } from '../contract/sqlite-test-support.js'
import { createTestDatabase } from '../support/postgres.js'

/** A ToolCommandEnv whose output and exit status the test reads back. */
export interface CapturedEnv {
  readonly env: ToolCommandEnv
  readonly stdout: () => string
  readonly stderr: () => string
  readonly exitCode: () => number | undefined
}

/** Captures output; `isTTY` decides whether a progress bar is drawn on stderr. */
export function captureEnv(cwd: string, options: { isTTY?: boolean; stdin?: string } = {}) {
  let out = ''
  let err = ''
  let code: number | undefined
  const env: ToolCommandEnv = {
    cwd,
    stdout: (text) => {
      out += text
    },
    stderr: {
      write: (text: string) => {
        err += text
      },
      isTTY: options.isTTY ?? false,
    },
    // Given in pieces of a few characters, as a pipe may cut it.
    stdin: () => Readable.from((options.stdin ?? '').match(/[^]{1,7}/g) ?? []),
    setExitCode: (value) => {
      code = value
    },
  }
  const captured: CapturedEnv = {
    env,
    stdout: () => out,
    stderr: () => err,
    exitCode: () => code,
  }
  return captured
}

/** A fresh PostgreSQL database for the test, dropped afterwards. */
export async function postgresStorage(t: TestContext): Promise<StorageConfig> {
  const database = await createTestDatabase()
  t.after(() => database.drop())
  return { kind: 'postgres', url: database.url }
}

/** Opens a store as the tools do, closed when the test ends. */
export async function openStore(
  t: TestContext,
  storage: StorageConfig,
  isReadOnly = false,
): Promise<PrStore> {
  const store = await openToolStore(storage, isReadOnly)
  t.after(() => store.close())
  return store
}

/** Every row of a store, with history. */
export function allRows(store: PrStore): Promise<readonly AuditedPrRow[]> {
  return store.exportRows({ version: null, pkgarch: null, checksum: null, history: true })
}

/** BitBake's table of 2012 – May 2024 (prserv.md §6.2), created as BitBake created it. */
export const BITBAKE_NOHIST_DDL =
  'CREATE TABLE IF NOT EXISTS PRMAIN_nohist (version TEXT NOT NULL, pkgarch TEXT NOT NULL, ' +
  'checksum TEXT NOT NULL, value INTEGER, PRIMARY KEY (version, pkgarch, checksum));'

/**
 * A file as a BitBake farm leaves it after upgrading to BitBake 2.10: the old integer table
 * `PRMAIN_nohist` (which 2.10 ignores) and a new `PRMAIN` numbering from 0 again.
 */
export function makeBitBakeFile(path: string): void {
  const db: Database.Database = openAsBitBake(path)
  try {
    db.exec(BITBAKE_NOHIST_DDL)
    const insertOld = db.prepare<[string, string, string, number]>(
      'INSERT OR REPLACE INTO PRMAIN_nohist (version, pkgarch, checksum, value) VALUES (?, ?, ?, ?)',
    )
    for (let value = 0; value < 4; value += 1) {
      insertOld.run('busybox-1.36-r0', 'core2-64', `old${value}`, value)
    }
    insertOld.run('zlib-1.3-r0', 'core2-64', 'oldz', 12)
    insertAsBitBake(db, [
      ['busybox-1.36-r0', 'core2-64', 'new0', '0'],
      ['busybox-1.36-r0', 'core2-64', 'new1', '1'],
      ['base-files-3.0-r0', 'qemux86_64', 'bf0', '0'],
    ])
  } finally {
    db.close()
  }
}

/** The 2011 layout: PRMAIN without pkgarch (prserv.md §6.2). */
export function makeAncientFile(path: string): void {
  const db = new Database(path)
  try {
    db.exec(
      'CREATE TABLE PRMAIN (version TEXT NOT NULL, checksum TEXT NOT NULL, value INTEGER, ' +
        'PRIMARY KEY (version, checksum))',
    )
    db.exec(BITBAKE_NOHIST_DDL)
    db.prepare('INSERT INTO PRMAIN VALUES (?, ?, ?)').run('busybox-1.2-r0', 'x', 3)
    db.prepare('INSERT INTO PRMAIN VALUES (?, ?, ?)').run('busybox-1.2-r0', 'y', 4)
    db.prepare('INSERT INTO PRMAIN_nohist VALUES (?, ?, ?, ?)').run('zlib-1.3-r0', 'all', 'z', 7)
  } finally {
    db.close()
  }
}

/** A BitBake-layout file of `rowCount` rows over 500 packages. */
export function makeLargeBitBakeFile(path: string, rowCount: number): void {
  const db = new Database(path)
  db.exec(`CREATE TABLE PRMAIN (version TEXT NOT NULL, pkgarch TEXT NOT NULL,
    checksum TEXT NOT NULL, value INTEGER, PRIMARY KEY (version, pkgarch, checksum, value))`)
  const insert = db.prepare('INSERT INTO PRMAIN VALUES (?, ?, ?, ?)')
  db.transaction(() => {
    for (let n = 0; n < rowCount; n++) {
      insert.run(`pkg${n % 500}-1.0-r0`, 'core2-64', n.toString(16).padStart(64, '0'), n / 500)
    }
  })()
  db.close()
}
