// The server under test as a separate child process, started the way a user would start it.
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { closeSync, openSync, readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { describeError } from './describe-error.js'
import { readGroupCpuMs } from './process-cpu.js'
import { PING_LINE, formatTestPackageLine } from './pr-requests.js'
import { WireConnection } from './wire-connection.js'

const READY_POLL_INTERVAL_MS = 100
const READY_REQUEST_TIMEOUT_MS = 5_000
const STOP_TIMEOUT_MS = 15_000
const LOG_TAIL_BYTES = 4_000

export interface ServerStartOptions {
  /** Shell command template; `{database}`, `{bind}`, `{host}`, `{port}` are substituted. */
  readonly commandTemplate: string
  /** Database path or URL, substituted for `{database}`. */
  readonly database: string
  readonly host: string
  /** File receiving the server's stdout and stderr. */
  readonly logPath: string
  readonly readyTimeoutMs: number
}

export class ServerStartError extends Error {
  override name = 'ServerStartError'
}

/** Every server still running, killed if the bench process exits without stopping them. */
const liveProcesses = new Set<ChildProcess>()
process.on('exit', () => {
  for (const child of liveProcesses) killGroup(child, 'SIGKILL')
})

export class ServerProcess {
  readonly host: string
  readonly port: number
  readonly logPath: string
  readonly #child: ChildProcess

  private constructor(child: ChildProcess, host: string, port: number, logPath: string) {
    this.#child = child
    this.host = host
    this.port = port
    this.logPath = logPath
  }

  /** Starts the server on a free port and resolves once it answers ping and a database read. */
  static async start(options: ServerStartOptions): Promise<ServerProcess> {
    const port = await findFreePort(options.host)
    const command = formatServerCommand(options.commandTemplate, {
      database: options.database,
      host: options.host,
      port: String(port),
      bind: `${options.host}:${port}`,
    })
    const logFd = openSync(options.logPath, 'a')
    // A process group of its own, so SIGTERM reaches the server even behind `sh -c`.
    const child = spawn('/bin/sh', ['-c', command], {
      detached: true,
      stdio: ['ignore', logFd, logFd],
    })
    closeSync(logFd)
    liveProcesses.add(child)
    child.once('exit', () => liveProcesses.delete(child))
    const server = new ServerProcess(child, options.host, port, options.logPath)
    try {
      await server.#waitUntilReady(options.readyTimeoutMs)
    } catch (error: unknown) {
      await server.stop()
      throw error
    }
    return server
  }

  /** SIGTERM to the server's process group, then SIGKILL if it has not exited in time. */
  async stop(): Promise<void> {
    const child = this.#child
    if (child.exitCode !== null || child.signalCode !== null) return
    const exited = once(child, 'exit')
    killGroup(child, 'SIGTERM')
    const timer = setTimeout(() => {
      killGroup(child, 'SIGKILL')
    }, STOP_TIMEOUT_MS)
    await exited
    clearTimeout(timer)
  }

  /** CPU milliseconds used so far by the server's process group (NaN off Linux). */
  readCpuMs(): number {
    return this.#child.pid === undefined ? Number.NaN : readGroupCpuMs(this.#child.pid)
  }

  /** The end of the server's log, for error messages. */
  readLogTail(): string {
    try {
      const text = readFileSync(this.logPath, 'utf8')
      return text.slice(-LOG_TAIL_BYTES)
    } catch (error: unknown) {
      return `(log unreadable: ${describeError(error)})`
    }
  }

  async #waitUntilReady(readyTimeoutMs: number): Promise<void> {
    const deadlineMs = performance.now() + readyTimeoutMs
    let lastProblem = 'not tried'
    while (performance.now() < deadlineMs) {
      if (this.#child.exitCode !== null || this.#child.signalCode !== null) {
        throw new ServerStartError(
          `server exited during start-up (code ${String(this.#child.exitCode)}); log ${this.logPath}:\n${this.readLogTail()}`,
        )
      }
      try {
        await probeServer(this.host, this.port)
        return
      } catch (error: unknown) {
        lastProblem = describeError(error)
        await sleep(READY_POLL_INTERVAL_MS)
      }
    }
    throw new ServerStartError(
      `server not ready after ${readyTimeoutMs} ms (${lastProblem}); log ${this.logPath}:\n${this.readLogTail()}`,
    )
  }
}

/**
 * Ready means answering ping and a request that reads the database: a server may listen before
 * its database is open and indexed (BitBake's does, asyncrpc.md §12).
 */
async function probeServer(host: string, port: number): Promise<void> {
  const connection = await WireConnection.open(host, port, READY_REQUEST_TIMEOUT_MS)
  try {
    const timer = setTimeout(() => {
      connection.abort('readiness probe timed out')
    }, READY_REQUEST_TIMEOUT_MS)
    await connection.request(PING_LINE)
    await connection.request(formatTestPackageLine('bench-readiness-probe'))
    clearTimeout(timer)
  } finally {
    await connection.close()
  }
}

/** A port that was free a moment ago: bind port 0, read the port, close. */
export async function findFreePort(host: string): Promise<number> {
  const server = createServer()
  server.listen(0, host)
  await once(server, 'listening')
  const address = server.address()
  server.close()
  await once(server, 'close')
  if (address === null || typeof address === 'string') {
    throw new ServerStartError('could not read the bound port')
  }
  return address.port
}

/** Substitutes `{name}` placeholders with shell-quoted values; unknown names stay as they are. */
export function formatServerCommand(
  template: string,
  values: Readonly<Record<string, string>>,
): string {
  return template.replace(/\{(\w+)\}/g, (match, name: string) => {
    const value = values[name]
    return value === undefined ? match : quoteForShell(value)
  })
}

function quoteForShell(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return
  try {
    process.kill(-child.pid, signal)
  } catch (error: unknown) {
    // ESRCH: the group is already gone, which is what we wanted.
    if (!(error instanceof Error && 'code' in error && error.code === 'ESRCH')) throw error
  }
}
