/**
 * How a service declares its RPC methods: each method is data (wire name, params parser,
 * handler). Handlers receive validated params and a context and return a plain JSON-able
 * result; they never touch a channel.
 */
import type { Logger } from '../observability/logger.js'

/** What a handler knows about the request besides its params. */
export interface RequestContext<Session> {
  /** The client's address, for logs and the audit trail. */
  readonly peer: string
  /** Child logger bound to the connection. */
  readonly log: Logger
  /** Per-connection state owned by the service (e.g. hashserv's authenticated user). */
  readonly session: Session
}

/**
 * A handler result that switches the connection into stream mode (asyncrpc.md §9): the server
 * replies `"ok"`, then answers each raw line with `handleLine` until `END` or an empty line,
 * replies the bare line `ok` and returns to normal mode.
 */
export class EnterStreamMode {
  readonly handleLine: (line: string) => Promise<string>
  constructor(handleLine: (line: string) => Promise<string>) {
    this.handleLine = handleLine
  }
}

/**
 * A handler result given as the pieces of its JSON text, in Python's spelling (codec.ts), for
 * replies too large to build whole: the server sends each piece as it comes, so the reply
 * is never held in memory at once. A failure of `pieces` before anything was sent is answered
 * like a handler's error; after that, the connection closes.
 */
export class StreamedResult {
  readonly pieces: AsyncIterable<string>
  constructor(pieces: AsyncIterable<string>) {
    this.pieces = pieces
  }
}

/** One RPC method with its params type erased, as stored in a service's method table. */
export interface MethodDefinition<Session> {
  /** The wire name, e.g. 'get-pr'. */
  readonly name: string
  /** Validates the request body (throws InvalidParamsError) and runs the handler. */
  readonly invoke: (body: unknown, ctx: RequestContext<Session>) => Promise<unknown>
}

/** Declares a method from a params parser and a handler. */
export function defineMethod<Params, Session>(spec: {
  readonly name: string
  readonly parseParams: (body: unknown) => Params
  readonly handle: (params: Params, ctx: RequestContext<Session>) => unknown
}): MethodDefinition<Session> {
  return {
    name: spec.name,
    // Not an async function: a handler's promise is passed on as it is, without the extra
    // microtask turns of resolving one promise with another (this is every request's path).
    invoke: (body, ctx) => {
      try {
        return Promise.resolve(spec.handle(spec.parseParams(body), ctx))
      } catch (err: unknown) {
        return Promise.reject(err instanceof Error ? err : new Error(String(err)))
      }
    },
  }
}

/** A service as the RPC server sees it: protocol identity, method table and sessions. */
export interface RpcService<Session> {
  /** Handshake protocol name, e.g. 'PRSERVICE'. */
  readonly protocolName: string
  /** Whether the handshake version (integer fields of "1.0") is accepted. */
  readonly acceptsVersion: (version: readonly number[]) => boolean
  /** Methods in dispatch order: the first name present as a key of a message wins. */
  readonly methods: readonly MethodDefinition<Session>[]
  /** Creates the per-connection state. */
  readonly createSession: (peer: string) => Session
}
