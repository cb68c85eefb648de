/**
 * Issue #3 §2: four server processes on one PostgreSQL, 256 concurrent clients across them
 * mixing history modes, new and repeated checksums, one hot package and many others; one
 * replica is SIGKILLed mid-run. Every value a client received is in the database and the
 * allocation invariant holds.
 */
import { strict as assert } from 'node:assert'
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { createInterface } from 'node:readline'
import { test } from 'node:test'
import type { TestContext } from 'node:test'
import postgres from 'postgres'
import { PrClient } from '../../src/client/pr-client.js'
import type { PrKey } from '../../src/services/prserv/pr-store.js'
import { createTestDatabase } from '../support/postgres.js'

const REPLICAS = 4
const CLIENTS = 256
const REQUESTS_PER_CLIENT = 8
const START_TIMEOUT_MS = 60_000

interface Replica {
  readonly child: ChildProcess
  readonly address: string
}

/**
 * Starts `prserv server` as a user would, and resolves with its listening address. `extraArgs`
 * are further flags.
 */
async function startReplica(
  t: TestContext,
  url: string,
  extraArgs: readonly string[],
): Promise<Replica> {
  const child = spawn(
    process.execPath,
    [
      ...['--import', 'tsx', 'src/cli/main.ts', 'server'],
      ...['--database', url, '--bind', '127.0.0.1:0', ...extraArgs],
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  )
  t.after(async () => {
    if (child.exitCode !== null || child.signalCode !== null) return
    child.kill('SIGTERM')
    await once(child, 'exit')
  })
  const lines = createInterface({ input: child.stderr })
  const address = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error('replica did not start'))
    }, START_TIMEOUT_MS)
    child.once('exit', (code) => {
      reject(new Error(`replica exited with ${String(code)}`))
    })
    lines.on('line', (line) => {
      const record: unknown = JSON.parse(line)
      if (typeof record !== 'object' || record === null) return
      const message: unknown = Reflect.get(record, 'msg')
      const listening: unknown = Reflect.get(record, 'address')
      if (message === 'listening' && typeof listening === 'string') {
        clearTimeout(timer)
        resolve(listening)
      }
    })
  })
  return { child, address }
}

interface Request {
  readonly key: PrKey
  readonly history: boolean
}

function requestOf(client: number, index: number): Request {
  const n = client * REQUESTS_PER_CLIENT + index
  switch (n % 4) {
    case 0:
      return { key: { version: 'hot', pkgarch: 'all', checksum: `new-${n}` }, history: false }
    case 1:
      return { key: { version: 'hot', pkgarch: 'all', checksum: `h-${n % 16}` }, history: true }
    case 2:
      return { key: { version: `p${n % 64}`, pkgarch: 'x', checksum: `c${n}` }, history: false }
    default:
      return { key: { version: 'hot', pkgarch: 'all', checksum: `n-${n % 8}` }, history: false }
  }
}

interface Answer extends Request {
  readonly value: string
}

/** One BitBake-like client: on a broken connection it reconnects to the next live replica. */
async function runClient(
  client: number,
  replicas: readonly Replica[],
  isAlive: (replica: Replica) => boolean,
  answers: Answer[],
): Promise<number> {
  let choice = client
  let failovers = 0
  const connect = (): PrClient => {
    const live = replicas.filter(isAlive)
    const target = live[choice % live.length]
    if (target === undefined) throw new Error('no live replica')
    return new PrClient({ address: target.address, maxAttempts: 1, timeoutMs: 20_000 })
  }
  let connection = connect()
  try {
    for (let index = 0; index < REQUESTS_PER_CLIENT; index++) {
      const request = requestOf(client, index)
      for (let attempt = 0; ; attempt++) {
        try {
          answers.push({ ...request, value: await connection.getPr(request.key, request.history) })
          break
        } catch (error: unknown) {
          if (attempt >= 5) throw error
          await connection.close()
          choice++
          failovers++
          connection = connect()
        }
      }
    }
  } finally {
    await connection.close()
  }
  return failovers
}

async function readRows(url: string) {
  const sql = postgres(url, { max: 1 })
  try {
    return await sql<{ version: string; pkgarch: string; checksum: string; value: string }[]>`
      SELECT version, pkgarch, checksum, value FROM prmain`
  } finally {
    await sql.end()
  }
}

void test('postgres replicas: 4 server processes, 256 clients, one replica killed (issue #3)', async (t) => {
  const db = await createTestDatabase()
  t.after(() => db.drop())
  const replicas = await Promise.all(
    // Half of them as behind an old pgbouncer: both statement styles share one database.
    Array.from({ length: REPLICAS }, (_, index) =>
      startReplica(t, db.url, index % 2 === 0 ? [] : ['--pg-unnamed-statements']),
    ),
  )
  const killed = new Set<Replica>()
  const answers: Answer[] = []
  const clients = Array.from({ length: CLIENTS }, (_, client) =>
    runClient(client, replicas, (replica) => !killed.has(replica), answers),
  )
  const victim = replicas[0]
  assert.ok(victim !== undefined)
  while (answers.length < (CLIENTS * REQUESTS_PER_CLIENT) / 4) {
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
  killed.add(victim)
  victim.child.kill('SIGKILL')
  const failovers = await Promise.all(clients)
  assert.equal(answers.length, CLIENTS * REQUESTS_PER_CLIENT)
  assert.ok(
    failovers.some((count) => count > 0),
    'clients of the killed replica moved on',
  )

  const rows = await readRows(db.url)
  const stored = new Set(rows.map((row) => JSON.stringify([row.version, row.checksum, row.value])))
  for (const { key, value } of answers) {
    assert.ok(stored.has(JSON.stringify([key.version, key.checksum, value])), 'received = stored')
  }
  const valuesByPackage = new Map<string, number[]>()
  for (const row of rows) {
    const id = `${row.version}/${row.pkgarch}`
    valuesByPackage.set(id, [...(valuesByPackage.get(id) ?? []), Number(row.value)])
  }
  for (const [id, values] of valuesByPackage) {
    const sorted = [...values].sort((a, b) => a - b)
    assert.deepEqual(
      sorted,
      Array.from({ length: values.length }, (_, index) => index),
      id,
    )
  }
  const history = new Map<string, Set<string>>()
  for (const { key, value } of answers.filter((answer) => answer.history)) {
    history.set(key.checksum, (history.get(key.checksum) ?? new Set()).add(value))
  }
  for (const [checksum, values] of history) assert.equal(values.size, 1, checksum)
})
