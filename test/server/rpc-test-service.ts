/**
 * A tiny service for the RPC-layer server tests, and helpers to start it with a log capture.
 * Not a test file itself.
 */
import type { TestContext } from 'node:test'
import { InvalidParamsError, ReadOnlyError, StorageError } from '../../src/protocol/errors.js'
import { createLogger } from '../../src/observability/logger.js'
import type { Logger } from '../../src/observability/logger.js'
import { defineMethod, EnterStreamMode, StreamedResult } from '../../src/rpc/method.js'
import type { RpcService } from '../../src/rpc/method.js'
import { startRpcServer } from '../../src/rpc/rpc-server.js'
import type { RpcServerHandle, RpcServerOptions } from '../../src/rpc/rpc-server.js'

/** Per-connection state of the test service. */
export interface TestSession {
  requests: number
}

/** Hooks a test can give the service. */
export interface TestServiceHooks {
  /** Awaited by the `hold` method before it answers. */
  readonly hold?: () => Promise<void>
  /** Called when a `streamed` reply's pieces end (sent, failed or abandoned). */
  readonly onStreamedEnd?: (piecesMade: number) => void
}

/**
 * `streamed` params: the reply is a JSON array of `count` strings of `size` characters, made
 * a piece per string; with `failAfter`, a StorageError follows that many pieces instead.
 */
interface StreamedParams {
  readonly count: number
  readonly size: number
  readonly failAfter: number | null
}

function parseStreamedParams(body: unknown): StreamedParams {
  const get = (name: string): unknown =>
    typeof body === 'object' && body !== null ? Reflect.get(body, name) : undefined
  const [count, size, failAfter] = [get('count'), get('size'), get('failAfter') ?? null]
  if (typeof count !== 'number' || typeof size !== 'number') {
    throw new InvalidParamsError('streamed: "count" and "size" must be numbers')
  }
  if (failAfter !== null && typeof failAfter !== 'number') {
    throw new InvalidParamsError('streamed: "failAfter" must be a number')
  }
  return { count, size, failAfter }
}

async function* streamedPieces(
  params: StreamedParams,
  hooks: TestServiceHooks,
): AsyncGenerator<string> {
  let made = 0
  try {
    yield '['
    for (; made < params.count; made++) {
      if (made === params.failAfter) throw new StorageError('disk I/O error while streaming')
      // A turn of the event loop per piece, as a page read from a database takes.
      await new Promise((resolve) => setImmediate(resolve))
      yield `${made === 0 ? '' : ', '}"${String(made % 10).repeat(params.size)}"`
    }
    if (params.failAfter === params.count) throw new StorageError('disk I/O error at the end')
    yield ']'
  } finally {
    hooks.onStreamedEnd?.(made)
  }
}

const identity = (body: unknown): unknown => body

/** The TESTSERVICE (1, 0) method table; `ping` first, so it wins dispatch (§6.2). */
export function createTestService(hooks: TestServiceHooks = {}): RpcService<TestSession> {
  return {
    protocolName: 'TESTSERVICE',
    acceptsVersion: (version) => version.length === 2 && version[0] === 1 && version[1] === 0,
    createSession: () => ({ requests: 0 }),
    methods: [
      defineMethod({ name: 'ping', parseParams: identity, handle: () => ({ alive: true }) }),
      defineMethod({ name: 'echo', parseParams: identity, handle: (body) => body }),
      defineMethod<unknown, TestSession>({
        name: 'count',
        parseParams: identity,
        handle: (_body, ctx) => ({ requests: ++ctx.session.requests }),
      }),
      defineMethod({
        name: 'fail-params',
        parseParams: () => {
          throw new InvalidParamsError('fail-params: field "x" must be a string')
        },
        handle: () => null,
      }),
      defineMethod({
        name: 'crash',
        parseParams: identity,
        handle: () => {
          throw new Error('secret: SELECT * FROM PRMAIN in /var/lib/prserv.db')
        },
      }),
      defineMethod({
        name: 'read-only',
        parseParams: identity,
        handle: () => {
          throw new ReadOnlyError('the server is read-only')
        },
      }),
      defineMethod({
        name: 'storage',
        parseParams: identity,
        handle: () => {
          throw new StorageError('disk I/O error in /var/lib/prserv.db')
        },
      }),
      defineMethod({
        name: 'hold',
        parseParams: identity,
        handle: async () => {
          await hooks.hold?.()
          return { held: true }
        },
      }),
      defineMethod({
        name: 'streamed',
        parseParams: parseStreamedParams,
        handle: (params) => new StreamedResult(streamedPieces(params, hooks)),
      }),
      defineMethod({
        name: 'upper-stream',
        parseParams: identity,
        handle: () => new EnterStreamMode((line) => Promise.resolve(line.toUpperCase())),
      }),
      defineMethod({
        name: 'fail-stream',
        parseParams: identity,
        handle: () =>
          new EnterStreamMode((line) => {
            if (line === 'bad') throw new InvalidParamsError('bad stream line')
            return Promise.resolve(line)
          }),
      }),
    ],
  }
}

/** Parsed JSON log records written by a capture logger. */
export interface LogCapture {
  readonly logger: Logger
  readonly records: () => Record<string, unknown>[]
}

/** A debug-level logger that keeps its records in memory. */
export function captureLogs(): LogCapture {
  const lines: string[] = []
  const logger = createLogger('debug', { write: (line: string) => void lines.push(line) })
  return {
    logger,
    // pino writes one JSON object per line (boundary cast).
    records: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>),
  }
}

/** A started test server with its log capture. */
export interface TestServer extends RpcServerHandle {
  readonly logs: LogCapture
}

/** Starts TESTSERVICE (on 127.0.0.1:0 unless told) and closes it after the test. */
export async function startTestServer(
  t: TestContext,
  options: Partial<Omit<RpcServerOptions<TestSession>, 'logger'>> & {
    hooks?: TestServiceHooks
  } = {},
): Promise<TestServer> {
  const logs = captureLogs()
  const { hooks, ...rest } = options
  const server = await startRpcServer({
    service: createTestService(hooks),
    listen: ['127.0.0.1:0'],
    ...rest,
    logger: logs.logger,
  })
  t.after(() => server.close())
  return { ...server, close: () => server.close(), logs }
}
