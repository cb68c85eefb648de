/**
 * Server listeners for BitBake addresses (asyncrpc.md §2-§3): TCP (every address of a host
 * name), Unix sockets (stale file replaced, long paths, unlinked on close) and WebSocket.
 * Each accepted connection is handed over as a MessageChannel.
 */
import { once } from 'node:events'
import { lstat, unlink } from 'node:fs/promises'
import { createServer as createHttpServer } from 'node:http'
import { lookup } from 'node:dns/promises'
import { createServer, isIP } from 'node:net'
import type { AddressInfo, Server, Socket } from 'node:net'
import { resolve } from 'node:path'
import { WebSocketServer } from 'ws'
import type { WebSocketRpcAddress } from '../protocol/address.js'
import {
  formatTcpAddress,
  formatUnixAddress,
  formatWebSocketAddress,
  parseAddress,
} from '../protocol/address.js'
import type { Logger } from '../observability/logger.js'
import type { MessageChannel } from './channel.js'
import { describeSocketPeer, KEEPALIVE_INITIAL_DELAY_MS, StreamChannel } from './stream-channel.js'
import { withShortUnixPath } from './unix-path.js'
import { WebSocketChannel } from './websocket-channel.js'

/** A bound listener. */
export interface Listener {
  /** Where it listens, in BitBake syntax (`127.0.0.1:8585`, `[::1]:8585`, `unix:///abs`, `ws://…`). */
  readonly address: string
  /** Stops accepting at once; resolves when the listener and its open sockets are gone. */
  close(): Promise<void>
}

/** What every listener needs. */
export interface ListenOptions {
  /** Receives every accepted connection. */
  readonly onChannel: (channel: MessageChannel) => void
  /** Longest accepted line on stream sockets, in bytes. */
  readonly maxLineBytes: number
  /** Largest accepted WebSocket message, in bytes. */
  readonly maxMessageBytes: number
  readonly log: Logger
}

const SOCKET_OPTIONS = {
  noDelay: true,
  keepAlive: true,
  keepAliveInitialDelay: KEEPALIVE_INITIAL_DELAY_MS,
  // Answer requests that arrive before the client's FIN; we close once they are answered.
  allowHalfOpen: true,
} as const

/** The WebSocket listener: only the socket options (HTTP servers are always half-open). */
const HTTP_OPTIONS = {
  noDelay: true,
  keepAlive: true,
  keepAliveInitialDelay: KEEPALIVE_INITIAL_DELAY_MS,
} as const

function closeServer(server: Server): Promise<void> {
  return new Promise((resolvePromise) =>
    server.close(() => {
      resolvePromise()
    }),
  )
}

/** Listens and waits for success; afterwards, listener errors (e.g. EMFILE) are logged. */
async function listenOn(
  server: Server,
  options: Parameters<Server['listen']>[0],
  log: Logger,
): Promise<void> {
  server.listen(options)
  await once(server, 'listening')
  server.on('error', (err) => {
    log.warn({ err }, 'listener error')
  })
}

function readAddressInfo(server: Server): AddressInfo {
  const bound = server.address()
  if (bound === null || typeof bound === 'string') throw new Error('listener has no IP address')
  return bound
}

function createStreamServer(options: ListenOptions): Server {
  return createServer(SOCKET_OPTIONS, (socket: Socket) => {
    const peer = describeSocketPeer(socket)
    options.onChannel(new StreamChannel(socket, { peer, maxLineBytes: options.maxLineBytes }))
  })
}

interface TcpBinding {
  readonly host: string | undefined
  readonly port: number
  readonly ipv6Only: boolean
}

async function bindTcp(binding: TcpBinding, options: ListenOptions): Promise<[Listener, number]> {
  const server = createStreamServer(options)
  await listenOn(server, binding, options.log)
  const bound = readAddressInfo(server)
  const listener = {
    address: formatTcpAddress(bound.address, bound.port),
    close: () => closeServer(server),
  }
  return [listener, bound.port]
}

async function resolveHost(host: string): Promise<string[]> {
  if (isIP(host) !== 0) return [host]
  const found = await lookup(host, { all: true })
  return [...new Set(found.map((entry) => entry.address))]
}

async function listenTcp(host: string, port: number, options: ListenOptions): Promise<Listener[]> {
  if (host === '') {
    const [listener] = await bindTcp({ host: undefined, port, ipv6Only: false }, options)
    return [listener]
  }
  const [first, ...others] = await resolveHost(host)
  if (first === undefined) throw new Error(`host ${host} has no address`)
  // With several addresses, keep IPv6 sockets off IPv4 so both families can bind the port.
  const isSeveral = others.length > 0
  const [listener, boundPort] = await bindTcp(
    { host: first, port, ipv6Only: isSeveral && isIP(first) === 6 },
    options,
  )
  const listeners = [listener]
  // A name with several addresses listens on all of them, on the port the first one got.
  for (const address of others) {
    try {
      const ipv6Only = isIP(address) === 6
      const [other] = await bindTcp({ host: address, port: boundPort, ipv6Only }, options)
      listeners.push(other)
    } catch (err: unknown) {
      options.log.warn({ err, host, address }, 'cannot listen on one address of the host')
    }
  }
  return listeners
}

async function removeStaleSocket(path: string): Promise<void> {
  try {
    if ((await lstat(path)).isSocket()) await unlink(path)
  } catch (err: unknown) {
    if (!(err instanceof Error && 'code' in err && err.code === 'ENOENT')) throw err
  }
}

async function listenUnix(path: string, options: ListenOptions): Promise<Listener> {
  const absolute = resolve(path)
  await removeStaleSocket(absolute)
  const server = createStreamServer(options)
  await withShortUnixPath(absolute, (bindPath) => listenOn(server, { path: bindPath }, options.log))
  const close = async (): Promise<void> => {
    await closeServer(server)
    // Through a short link, libuv's own unlink on close misses the real path.
    await removeStaleSocket(absolute)
  }
  return { address: formatUnixAddress(absolute), close }
}

async function listenWebSocket(
  address: WebSocketRpcAddress,
  options: ListenOptions,
): Promise<Listener> {
  if (address.isSecure) {
    options.log.warn(
      { address: address.url },
      'wss:// bind address serves plain WebSocket; terminate TLS in a proxy',
    )
  }
  const httpServer = createHttpServer(HTTP_OPTIONS, (_request, response) => {
    response.writeHead(426, { connection: 'close' }).end()
  })
  const wss = new WebSocketServer({
    server: httpServer,
    maxPayload: options.maxMessageBytes,
    perMessageDeflate: false,
    clientTracking: false,
  })
  wss.on('connection', (socket, request) => {
    options.onChannel(new WebSocketChannel(socket, { peer: describeSocketPeer(request.socket) }))
  })
  wss.on('error', (err) => {
    options.log.warn({ err }, 'listener error')
  })
  const host = address.host === '' ? undefined : address.host
  await listenOn(httpServer, { host, port: address.port }, options.log)
  const bound = readAddressInfo(httpServer)
  const close = async (): Promise<void> => {
    wss.close()
    const closed = closeServer(httpServer)
    httpServer.closeIdleConnections()
    await closed
  }
  return { address: formatWebSocketAddress(bound.address, bound.port), close }
}

/** Binds one address; a host name with several addresses yields several listeners. */
export async function openListeners(
  addressText: string,
  options: ListenOptions,
): Promise<Listener[]> {
  const address = parseAddress(addressText)
  switch (address.kind) {
    case 'tcp':
      return listenTcp(address.host, address.port, options)
    case 'unix':
      return [await listenUnix(address.path, options)]
    case 'websocket':
      return [await listenWebSocket(address, options)]
  }
}
