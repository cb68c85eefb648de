/**
 * The composition root of `prserv server`: for each dataset, opens its store, its upstream and
 * the PR service, and serves it on its listeners. Touches no process state (argv, env,
 * signals, exit): main.ts does that.
 */
import type { DatasetConfig, ServerConfig, StorageConfig } from '../config/config.js'
import { redactConfig } from '../config/redact-config.js'
import { PrUpstreamClient } from '../client/pr-upstream-client.js'
import type { Logger } from '../observability/logger.js'
import { metricsForDataset, NO_METRICS, PrometheusMetrics } from '../observability/metrics.js'
import type { Metrics } from '../observability/metrics.js'
import { METRICS_PATH, startMetricsServer } from '../observability/metrics-server.js'
import { startRpcServer } from '../rpc/rpc-server.js'
import { createPrRpcService } from '../services/prserv/pr-methods.js'
import { PrService } from '../services/prserv/pr-service.js'
import type { PrStore } from '../services/prserv/pr-store.js'
import { openPostgresPrStore } from '../storage/postgres/postgres-pr-store.js'
import { openSqlitePrStore } from '../storage/sqlite/sqlite-pr-store.js'

/** The PostgreSQL pool size per dataset; `max_connections` caps it further. */
export const DEFAULT_POSTGRES_POOL_SIZE = 16

/** What startServer needs besides the configuration. */
export interface ServerDeps {
  readonly logger: Logger
}

/** One running dataset. */
export interface RunningDataset {
  readonly name: string
  readonly addresses: readonly string[]
}

/** A running server: the addresses it listens on and how to stop it. */
export interface ServerHandle {
  /** Every listening address, in BitBake syntax, across all datasets. */
  readonly addresses: readonly string[]
  readonly datasets: readonly RunningDataset[]
  /** Where Prometheus metrics are served (`host:port`, path `/metrics`), or null. */
  readonly metricsAddress: string | null
  /** Stops accepting, finishes in-flight requests, closes databases. Idempotent. */
  close(): Promise<void>
}

/** Opens the store a dataset's storage config names. */
export async function openPrStore(
  storage: StorageConfig,
  options: { readonly isReadOnly: boolean; readonly config: ServerConfig; readonly log: Logger },
): Promise<PrStore> {
  switch (storage.kind) {
    case 'sqlite':
      return openSqlitePrStore({
        path: storage.path,
        readOnly: options.isReadOnly,
        logger: options.log,
        maxPendingWrites: options.config.limits.maxPendingWrites,
      })
    case 'postgres':
      return openPostgresPrStore({
        url: storage.url,
        readOnly: options.isReadOnly,
        maxConnections: Math.min(DEFAULT_POSTGRES_POOL_SIZE, options.config.limits.maxConnections),
        maxQueuedOps: options.config.limits.maxPendingWrites,
        prepareStatements: options.config.postgres.prepareStatements,
        logger: options.log,
      })
    default:
      throw new Error(`unknown storage ${JSON.stringify(storage satisfies never)}`)
  }
}

interface Closable {
  close(): Promise<void>
}

async function startDataset(
  dataset: DatasetConfig,
  config: ServerConfig,
  deps: { readonly log: Logger; readonly metrics: Metrics },
  opened: Closable[],
): Promise<RunningDataset> {
  const { log } = deps
  const store = await openPrStore(dataset.storage, { isReadOnly: dataset.isReadOnly, config, log })
  opened.push(store)
  deps.metrics.watchStore(dataset.name, () => store.stats())
  const upstream =
    dataset.upstream === null ? null : new PrUpstreamClient({ address: dataset.upstream.text })
  if (upstream !== null) opened.push(upstream)
  const service = new PrService({ store, upstream, defaultHistory: dataset.defaultHistory })
  const server = await startRpcServer({
    service: createPrRpcService(service),
    listen: dataset.listen.map((address) => address.text),
    maxConnections: config.limits.maxConnections,
    maxLineBytes: config.limits.maxLineBytes,
    maxMessageBytes: config.limits.maxMessageBytes,
    maxHeaderCount: config.limits.maxHeaderCount,
    logger: log,
    metrics: metricsForDataset(deps.metrics, dataset.name),
  })
  // Listeners close first so no request reaches a closed store.
  opened.splice(opened.indexOf(store), 0, server)
  for (const address of server.addresses) log.info({ address }, 'listening')
  return { name: dataset.name, addresses: server.addresses }
}

/** The metrics of `--metrics-bind` and their listener, or metrics that record nothing. */
async function startMetrics(
  config: ServerConfig,
  log: Logger,
  opened: Closable[],
): Promise<{ readonly metrics: Metrics; readonly address: string | null }> {
  const bind = config.metricsBind
  if (bind === null) return { metrics: NO_METRICS, address: null }
  const metrics = new PrometheusMetrics()
  const listener = await startMetricsServer(metrics, bind.host, bind.port, log)
  opened.push(listener)
  log.info({ address: listener.address, path: METRICS_PATH }, 'serving metrics')
  return { metrics, address: listener.address }
}

/** Starts every dataset of the configuration. On failure, closes what was opened and throws. */
export async function startServer(config: ServerConfig, deps: ServerDeps): Promise<ServerHandle> {
  const log = deps.logger
  log.info({ config: redactConfig(config) }, 'starting')
  for (const warning of config.warnings) log.warn({ warning }, 'configuration warning')
  const opened: Closable[] = []
  let closing: Promise<void> | null = null
  const close = async (): Promise<void> => {
    closing ??= (async () => {
      for (const resource of opened) await resource.close()
      log.info('stopped')
    })()
    return closing
  }
  try {
    const { metrics, address: metricsAddress } = await startMetrics(config, log, opened)
    const datasets: RunningDataset[] = []
    for (const dataset of config.datasets) {
      const datasetLog = log.child({ dataset: dataset.name })
      datasets.push(await startDataset(dataset, config, { log: datasetLog, metrics }, opened))
    }
    return { addresses: datasets.flatMap((d) => d.addresses), datasets, metricsAddress, close }
  } catch (err: unknown) {
    await close()
    throw err
  }
}
