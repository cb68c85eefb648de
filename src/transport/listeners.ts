/**
 * Server listeners for BitBake addresses (asyncrpc.md §2-§3): TCP (every address of a host
 * name), Unix sockets (a stale file replaced, a live one refused, long paths, unlinked on
 * close) and WebSocket.
 * Each accepted connection is handed over as a MessageChannel.
 */
import { once } from 'node:events'
import { lstat, rm, unlink } from 'node:fs/promises'
import { createServer as createHttpServer } from 'node:http'
import { lookup } from 'node:dns/promises'
import { connect, createServer, isIP } from 'node:net'
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

/** How long the live check waits for a connection to the socket being replaced. */
const LIVE_SOCKET_CHECK_MS = 1_000

/** The identity of a file, to tell our socket from one bound later at the same path. */
interface FileIdentity {
  readonly dev: number
  readonly ino: number
}

async function socketIdentity(path: string): Promise<FileIdentity | null> {
  try {
    const stats = await lstat(path)
    return stats.isSocket() ? { dev: stats.dev, ino: stats.ino } : null
  } catch (err: unknown) {
    if (err instanceof Error && 'code' in err && err.code === 'ENOENT') return null
    throw err
  }
}

/**
 * Whether a server accepts connections on the socket at `path`. Refused (or gone) means the
 * file is stale; a connection that neither opens nor fails in time counts as live (a server
 * with a full backlog).
 */
function isSocketLive(path: string): Promise<boolean> {
  return withShortUnixPath(
    path,
    (shortPath) =>
      new Promise<boolean>((resolvePromise, reject) => {
        const probe = connect({ path: shortPath })
        const settle = (isLive: boolean, err?: Error): void => {
          clearTimeout(timer)
          probe.destroy()
          if (err === undefined) resolvePromise(isLive)
          else reject(err)
        }
        const timer = setTimeout(() => {
          settle(true)
        }, LIVE_SOCKET_CHECK_MS)
        probe.once('connect', () => {
          settle(true)
        })
        probe.once('error', (err: NodeJS.ErrnoException) => {
          const isStale = err.code === 'ECONNREFUSED' || err.code === 'ENOENT'
          settle(false, isStale ? undefined : err)
        })
      }),
  )
}

/**
 * Makes way for a new socket at `path`: removes a stale socket file left by a server that
 * died (nobody accepts on it), refuses one a running server still listens on. Anything else
 * at the path is left for bind() to refuse.
 */
async function replaceStaleSocket(path: string): Promise<void> {
  if ((await socketIdentity(path)) === null) return
  if (await isSocketLive(path)) {
    const address = formatUnixAddress(path)
    throw Object.assign(new Error(`listen EADDRINUSE: a server is listening on ${address}`), {
      code: 'EADDRINUSE',
    })
  }
  await rm(path, { force: true })
}

async function listenUnix(path: string, options: ListenOptions): Promise<Listener> {
  const absolute = resolve(path)
  await replaceStaleSocket(absolute)
  const server = createStreamServer(options)
  // Always bound through a private link, so that libuv's own unlink on close (by the bound
  // name) misses the real path: close() removes the socket only while it is still ours.
  await withShortUnixPath(
    absolute,
    (bindPath) => listenOn(server, { path: bindPath }, options.log),
    true,
  )
  const ours = await socketIdentity(absolute)
  const close = async (): Promise<void> => {
    await closeServer(server)
    // Another server may have bound the path since: its socket stays.
    const current = await socketIdentity(absolute)
    if (current !== null && ours !== null && current.dev === ours.dev && current.ino === ours.ino) {
      await unlink(absolute).catch(() => undefined)
    }
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
