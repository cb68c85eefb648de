/**
 * The HTTP listener of `--metrics-bind`: `GET /metrics` answers the Prometheus text exposition;
 * any other path is 404, any other method 405. It serves no data of the PR service.
 */
import { createServer } from 'node:http'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Logger } from './logger.js'
import type { PrometheusMetrics } from './metrics.js'

/** The path Prometheus scrapes. */
export const METRICS_PATH = '/metrics'

/** A running metrics listener. */
export interface MetricsServerHandle {
  /** `host:port` it listens on (the real port when 0 was asked for). */
  readonly address: string
  /** Stops listening and ends open scrapes. Idempotent. */
  close(): Promise<void>
}

function reply(response: ServerResponse, status: number, text: string): void {
  response.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' })
  response.end(text)
}

async function answer(
  metrics: PrometheusMetrics,
  request: IncomingMessage,
  response: ServerResponse,
  log: Logger,
): Promise<void> {
  const path = (request.url ?? '').split('?')[0]
  if (path !== METRICS_PATH) {
    reply(response, 404, `not found; metrics are at ${METRICS_PATH}\n`)
    return
  }
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.setHeader('allow', 'GET, HEAD')
    reply(response, 405, 'method not allowed\n')
    return
  }
  try {
    const text = await metrics.render()
    response.writeHead(200, { 'content-type': metrics.contentType })
    response.end(request.method === 'HEAD' ? undefined : text)
  } catch (err: unknown) {
    log.error({ err }, 'metrics could not be rendered')
    reply(response, 500, 'metrics could not be rendered\n')
  }
}

/** Listens on `host:port` for scrapes; rejects when the address cannot be bound. */
export async function startMetricsServer(
  metrics: PrometheusMetrics,
  host: string,
  port: number,
  log: Logger,
): Promise<MetricsServerHandle> {
  const server = createServer((request, response) => {
    void answer(metrics, request, response, log)
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    // An empty host means every interface.
    server.listen(port, host === '' ? undefined : host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  server.on('error', (err) => {
    log.error({ err }, 'metrics listener failed')
  })
  const bound = server.address()
  const boundHost = typeof bound === 'object' && bound !== null ? bound.address : host
  const boundPort = typeof bound === 'object' && bound !== null ? bound.port : port
  const address = `${boundHost.includes(':') ? `[${boundHost}]` : boundHost}:${boundPort}`
  let closing: Promise<void> | null = null
  return {
    address,
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        server.close(() => {
          resolve()
        })
        server.closeAllConnections()
      })),
  }
}
