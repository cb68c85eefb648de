/**
 * Dispatch: a decoded message to the method that handles it (asyncrpc.md §6.2), the timed and
 * logged call, and `toWireError`, the one place where errors become what a client sees.
 */
import { RpcError, InvalidRequestError } from '../protocol/errors.js'
import type { ErrorCode } from '../protocol/errors.js'
import type { Logger } from '../observability/logger.js'
import type { DatasetMetrics } from '../observability/metrics.js'
import { StreamedResult } from './method.js'
import type { MethodDefinition, RequestContext } from './method.js'

/** What a message asks for: the end of the session (`null`), or a method call. */
export type RequestTarget<Session> =
  | { readonly kind: 'end-session' }
  | {
      readonly kind: 'call'
      readonly method: MethodDefinition<Session>
      readonly body: unknown
    }

const END_SESSION = { kind: 'end-session' } as const
/** Longest command name quoted back to a client. */
const MAX_QUOTED_NAME_CHARS = 64

function quoteName(name: string): string {
  return JSON.stringify(
    name.length > MAX_QUOTED_NAME_CHARS ? name.slice(0, MAX_QUOTED_NAME_CHARS) + '…' : name,
  )
}

/**
 * Resolves a BitBake-style message: `null` ends the session; an object is dispatched to the
 * first method of the table (in table order, not key order) present as an own key. Anything
 * else throws InvalidRequestError.
 */
export function resolveRequest<Session>(
  methods: readonly MethodDefinition<Session>[],
  message: unknown,
): RequestTarget<Session> {
  if (message === null) return END_SESSION
  if (typeof message !== 'object' || Array.isArray(message)) {
    throw new InvalidRequestError('a request must be a JSON object with a command key')
  }
  for (const method of methods) {
    if (Object.hasOwn(message, method.name)) {
      const body: unknown = Reflect.get(message, method.name)
      return { kind: 'call', method, body }
    }
  }
  const [firstKey] = Object.keys(message)
  throw new InvalidRequestError(
    firstKey === undefined
      ? 'the request has no command'
      : `unknown command ${quoteName(firstKey)}`,
  )
}

/** Indexes a method table by wire name (for the JSON-RPC style dialect). */
export function indexMethods<Session>(
  methods: readonly MethodDefinition<Session>[],
): ReadonlyMap<string, MethodDefinition<Session>> {
  const index = new Map<string, MethodDefinition<Session>>()
  for (const method of methods) if (!index.has(method.name)) index.set(method.name, method)
  return index
}

/** Finds a method by its wire name; throws InvalidRequestError for an unknown one. */
export function findMethod<Session>(
  index: ReadonlyMap<string, MethodDefinition<Session>>,
  name: string,
): MethodDefinition<Session> {
  const method = index.get(name)
  if (method === undefined) throw new InvalidRequestError(`unknown command ${quoteName(name)}`)
  return method
}

/**
 * Runs a method; when metrics are on, counts and times it, and at debug level logs its name,
 * duration and outcome. Errors propagate unchanged. A StreamedResult is measured until its
 * last piece is made (outcome: `ok`, the code of its error, or REPLY_ABANDONED).
 */
export function invokeMethod<Session>(
  method: MethodDefinition<Session>,
  body: unknown,
  ctx: RequestContext<Session>,
  metrics: DatasetMetrics,
): Promise<unknown> {
  // The method's own promise, not one resolved with it (that costs extra microtask turns).
  if (!metrics.isEnabled && !ctx.log.isLevelEnabled('debug')) return method.invoke(body, ctx)
  return invokeMeasured(method, body, ctx, metrics)
}

/** The outcome of a streamed reply whose sending stopped early (the client left). */
export const REPLY_ABANDONED = 'abandoned'

async function invokeMeasured<Session>(
  method: MethodDefinition<Session>,
  body: unknown,
  ctx: RequestContext<Session>,
  metrics: DatasetMetrics,
): Promise<unknown> {
  const startedAt = performance.now()
  const record = (outcome: string): void => {
    const durationMs = performance.now() - startedAt
    metrics.recordRequest(method.name, outcome, durationMs / 1000)
    ctx.log.debug({ method: method.name, durationMs, outcome }, 'request handled')
  }
  let result: unknown
  try {
    result = await method.invoke(body, ctx)
  } catch (err: unknown) {
    record(toWireError(err).code)
    throw err
  }
  if (result instanceof StreamedResult) return new StreamedResult(measured(result.pieces, record))
  record('ok')
  return result
}

/** `pieces`, calling `record` with the outcome once they end. */
async function* measured(
  pieces: AsyncIterable<string>,
  record: (outcome: string) => void,
): AsyncGenerator<string> {
  let outcome = REPLY_ABANDONED
  try {
    yield* pieces
    outcome = 'ok'
  } catch (err: unknown) {
    outcome = toWireError(err).code
    throw err
  } finally {
    record(outcome)
  }
}

/** An error as a client may see it. */
export interface WireError {
  /** `protocol_error` means: close without replying. */
  readonly code: ErrorCode
  /** Text safe for the client: never a stack trace, SQL or a path. */
  readonly message: string
}

const INTERNAL_ERROR: WireError = { code: 'internal_error', message: 'internal server error' }
const STORAGE_ERROR: WireError = {
  code: 'storage_error',
  message: 'the server could not access its database; retry later',
}
const UPSTREAM_ERROR: WireError = {
  code: 'upstream_error',
  message: 'the upstream server failed or is unreachable; retry later',
}

/**
 * Maps any error to the wire. Client faults and upstream failures keep their (our own,
 * client-facing) message; storage and internal faults get a fixed text, their details stay in
 * the log; unknown errors are internal errors.
 */
export function toWireError(err: unknown): WireError {
  if (!(err instanceof RpcError)) return INTERNAL_ERROR
  switch (err.code) {
    case 'protocol_error':
    case 'invalid_request':
    case 'invalid_params':
    case 'read_only':
      return { code: err.code, message: err.message }
    // Our own text naming the upstream TCP address: it tells the client whom to blame.
    case 'upstream_error':
      return { code: err.code, message: err.message }
    // Storage messages may name database files or driver details: never sent.
    case 'storage_error':
      return STORAGE_ERROR
    // A handler that calls another server and lets a raw client error through.
    case 'connection_error':
    case 'remote_error':
      return UPSTREAM_ERROR
    case 'config_error':
    case 'internal_error':
      return INTERNAL_ERROR
  }
}

/** Logs a failed request at the level its wire code deserves (STYLE §6). */
export function logRequestFailure(log: Logger, err: unknown, wire: WireError): void {
  switch (wire.code) {
    case 'protocol_error':
    case 'invalid_request':
    case 'invalid_params':
    case 'read_only':
      log.debug({ code: wire.code, reason: wire.message }, 'request refused')
      return
    case 'storage_error':
    case 'upstream_error':
    case 'connection_error':
    case 'remote_error':
      log.warn({ err, code: wire.code }, 'request failed')
      return
    case 'config_error':
    case 'internal_error':
      log.error({ err, code: wire.code }, 'request failed with an internal error')
  }
}
