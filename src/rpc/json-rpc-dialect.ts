/**
 * The JSON-RPC style dialect of the Rust seed servers (seed-cli.md §5.1), chosen when a
 * connection's first line is a JSON object: no handshake, one line
 * `{"id", "method", "params"}` per request, answered by `{"id", "result", "error"}`.
 */
import { encodeJson, decodeJson } from '../protocol/codec.js'
import { InvalidRequestError } from '../protocol/errors.js'
import type { ConnectionIo } from './connection-io.js'
import { joinPieces } from './message-io.js'
import { findMethod, invokeMethod, logRequestFailure, toWireError } from './dispatcher.js'
import { EnterStreamMode, StreamedResult } from './method.js'
import type { MethodDefinition, RequestContext } from './method.js'

type MethodIndex<Session> = ReadonlyMap<string, MethodDefinition<Session>>

interface JsonRpcCall<Session> {
  readonly method: MethodDefinition<Session>
  readonly params: unknown
}

function isRecord(value: unknown): value is Readonly<Record<string, unknown>> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function readId(request: unknown): unknown {
  return isRecord(request) && Object.hasOwn(request, 'id') ? request.id : null
}

function parseCall<Session>(request: unknown, index: MethodIndex<Session>): JsonRpcCall<Session> {
  if (!isRecord(request) || typeof request.method !== 'string') {
    throw new InvalidRequestError('a request must be {"id", "method": <string>, "params"}')
  }
  const params = Object.hasOwn(request, 'params') ? request.params : null
  return { method: findMethod(index, request.method), params }
}

/** Answers one request line; false when the connection must close after this reply. */
async function answerRequest<Session>(
  io: ConnectionIo,
  index: MethodIndex<Session>,
  ctx: RequestContext<Session>,
  frame: string,
): Promise<boolean> {
  // Unparseable JSON is a protocol error: it propagates and the connection closes silently.
  const request = decodeJson(frame)
  const id = readId(request)
  let resultText: string
  try {
    const call = parseCall(request, index)
    const result = await invokeMethod(call.method, call.params, ctx, io.metrics)
    if (result instanceof EnterStreamMode) {
      throw new InvalidRequestError('stream mode is not available in the JSON-RPC style dialect')
    }
    resultText =
      result instanceof StreamedResult
        ? await joinPieces(result.pieces)
        : encodeJson(result ?? null)
  } catch (err: unknown) {
    const wire = toWireError(err)
    if (wire.code === 'protocol_error') throw err
    logRequestFailure(io.log, err, wire)
    const error = { code: wire.code, message: wire.message }
    await io.channel.sendFrame(encodeJson({ id, result: null, error }))
    return wire.code === 'invalid_request' || wire.code === 'invalid_params'
  }
  // Replies are single lines: JSON-RPC clients know nothing of chunk streams. The members are
  // spelled as encodeJson({ id, result, error: null }) would.
  await io.channel.sendFrame(`{"id": ${encodeJson(id)}, "result": ${resultText}, "error": null}`)
  return true
}

/**
 * Runs the JSON-RPC style dialect from the connection's first frame. After `invalid_request`
 * or `invalid_params` the connection stays open; other errors close it after their reply.
 */
export async function serveJsonRpcDialect<Session>(
  io: ConnectionIo,
  index: MethodIndex<Session>,
  ctx: RequestContext<Session>,
  firstFrame: string,
): Promise<void> {
  io.log.debug('JSON-RPC style dialect')
  let frame: string | undefined = firstFrame
  while (frame !== undefined) {
    io.setBusy(true)
    const isOpen = await answerRequest(io, index, ctx, frame)
    io.setBusy(false)
    if (!isOpen || io.isStopping) return
    frame = await io.nextFrame()
  }
}
