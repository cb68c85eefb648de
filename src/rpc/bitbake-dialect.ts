/**
 * BitBake's dialect on one connection (asyncrpc.md §5-§9): handshake, then one reply per
 * message in order, stream mode, and `invoke-error` followed by a close for handler errors.
 */
import { HandshakeParser } from '../protocol/handshake.js'
import { ProtocolError } from '../protocol/errors.js'
import type { ConnectionIo, ConnectionLimits } from './connection-io.js'
import { invokeMethod, logRequestFailure, resolveRequest, toWireError } from './dispatcher.js'
import { MessageReader, sendMessage, sendStreamedMessage } from './message-io.js'
import { EnterStreamMode, StreamedResult } from './method.js'
import type { MethodDefinition, RequestContext, RpcService } from './method.js'

/** The reply that acknowledges entering stream mode: the JSON string "ok" (§9). */
const STREAM_ENTERED = 'ok'
/** The bare line that acknowledges leaving stream mode (§9). */
const STREAM_LEFT = 'ok'
const STREAM_END_LINE = 'END'

async function readHandshake(
  io: ConnectionIo,
  service: Pick<RpcService<unknown>, 'protocolName' | 'acceptsVersion'>,
  firstFrame: string,
  maxHeaderCount: number,
): Promise<boolean> {
  const parser = new HandshakeParser({
    protocolName: service.protocolName,
    acceptsVersion: service.acceptsVersion,
    maxHeaderCount,
  })
  let frame: string | undefined = firstFrame
  for (;;) {
    const step = parser.push(frame)
    if (step.isComplete) {
      io.log.debug({ version: step.handshake.version }, 'handshake accepted')
      return step.handshake.needsHeaders
    }
    frame = await io.nextFrame()
    if (frame === undefined) throw new ProtocolError('end of stream during the handshake')
  }
}

/** Answers a failed request with `invoke-error` (§7); the caller then closes. */
async function replyInvokeError(io: ConnectionIo, err: unknown): Promise<void> {
  const wire = toWireError(err)
  if (wire.code === 'protocol_error') throw err
  logRequestFailure(io.log, err, wire)
  await sendMessage(io.channel, { 'invoke-error': { message: wire.message } })
}

/** Serves stream mode until `END` or an empty line; false when the connection must end. */
async function serveStreamMode(io: ConnectionIo, stream: EnterStreamMode): Promise<boolean> {
  await sendMessage(io.channel, STREAM_ENTERED)
  for (;;) {
    io.setBusy(false)
    if (io.isStopping) return false
    const frame = await io.nextFrame()
    if (frame === undefined) return false
    // Stream lines are trimmed like every line BitBake reads (§4), so `END \r` ends too.
    const line = frame.trimEnd()
    io.setBusy(true)
    if (line === '' || line === STREAM_END_LINE) {
      await io.channel.sendFrame(STREAM_LEFT)
      return true
    }
    let reply: string
    try {
      reply = await stream.handleLine(line)
    } catch (err: unknown) {
      await replyInvokeError(io, err)
      return false
    }
    await io.channel.sendFrame(reply)
  }
}

/** Handles one message; false when the connection must end. */
async function answerMessage<Session>(
  io: ConnectionIo,
  methods: readonly MethodDefinition<Session>[],
  ctx: RequestContext<Session>,
  message: unknown,
): Promise<boolean> {
  let result: unknown
  try {
    const target = resolveRequest(methods, message)
    if (target.kind === 'end-session') {
      io.log.debug('session ended by the client')
      return false
    }
    result = await invokeMethod(target.method, target.body, ctx, io.metrics)
  } catch (err: unknown) {
    await replyInvokeError(io, err)
    return false
  }
  if (result instanceof EnterStreamMode) return serveStreamMode(io, result)
  if (result instanceof StreamedResult) return sendStreamedResult(io, result)
  await sendMessage(io.channel, result)
  return true
}

/** Sends a reply made piece by piece; false when the connection must end. */
async function sendStreamedResult(io: ConnectionIo, result: StreamedResult): Promise<boolean> {
  const progress = { hasStarted: false }
  try {
    await sendStreamedMessage(io.channel, result.pieces, () => {
      progress.hasStarted = true
    })
  } catch (err: unknown) {
    // Once part of the reply is out, closing is the only way to tell the client it failed;
    // the connection logs the error.
    if (progress.hasStarted) throw err
    await replyInvokeError(io, err)
    return false
  }
  return true
}

/**
 * Runs BitBake's dialect from the connection's first frame until the client ends the session,
 * an error closes it, or the server stops. Throws ProtocolError for the caller to log.
 */
export async function serveBitbakeDialect<Session>(
  io: ConnectionIo,
  service: RpcService<Session>,
  ctx: RequestContext<Session>,
  firstFrame: string,
  limits: ConnectionLimits,
): Promise<void> {
  const needsHeaders = await readHandshake(io, service, firstFrame, limits.maxHeaderCount)
  // No server headers are defined, so the header block is just its terminating empty line.
  if (needsHeaders) await io.channel.sendFrame('')
  const reader = new MessageReader(() => io.nextFrame(), io.channel.kind, limits.maxMessageBytes)
  for (;;) {
    const read = await reader.read()
    if (read.done) return
    io.setBusy(true)
    const isOpen = await answerMessage(io, service.methods, ctx, read.message)
    io.setBusy(false)
    if (!isOpen || io.isStopping) return
  }
}
