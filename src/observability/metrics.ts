/**
 * The server's metrics (STYLE §6): a small interface the RPC layer records through, injected
 * like the logger, and its Prometheus implementation (the only user of `prom-client`). Labels
 * are bounded sets: dataset names from the config, method names from the method tables,
 * outcomes from the error codes.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client'

/** A dataset store's running counts (PrStore.stats), read at each scrape. */
export interface StoreCounts {
  readonly queuedWrites: number
  readonly writeBatches: number
  readonly batchedWrites: number
  readonly isDatabaseAvailable: boolean
}

/** What the server records. */
export interface Metrics {
  /** Reads `read()` at every scrape for the dataset's store metrics. */
  watchStore(dataset: string, read: () => StoreCounts): void
  /** A dispatched request ended: `outcome` is `ok` or its wire error code. */
  recordRequest(dataset: string, method: string, outcome: string, durationSeconds: number): void
  /** A client connection was accepted (`delta` 1) or ended (`delta` -1). */
  recordConnection(dataset: string, delta: 1 | -1): void
  /** Whether recording does anything (callers may skip measuring when it does not). */
  readonly isEnabled: boolean
}

/** Metrics that record nothing (no `--metrics-bind`). */
export const NO_METRICS: Metrics = {
  watchStore: () => undefined,
  recordRequest: () => undefined,
  recordConnection: () => undefined,
  isEnabled: false,
}

/** One dataset's metrics, as its RPC server records them. */
export interface DatasetMetrics {
  readonly isEnabled: boolean
  recordRequest(method: string, outcome: string, durationSeconds: number): void
  recordConnection(delta: 1 | -1): void
}

/** `metrics` with the dataset label bound. */
export function metricsForDataset(metrics: Metrics, dataset: string): DatasetMetrics {
  return {
    isEnabled: metrics.isEnabled,
    recordRequest: (method, outcome, durationSeconds) => {
      metrics.recordRequest(dataset, method, outcome, durationSeconds)
    },
    recordConnection: (delta) => {
      metrics.recordConnection(dataset, delta)
    },
  }
}

/** Request duration buckets, in seconds: a cached lookup to a slow database commit. */
const DURATION_BUCKETS_S = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5]

/** Metrics kept in a Prometheus registry, with the process's default metrics. */
export class PrometheusMetrics implements Metrics {
  readonly isEnabled = true
  readonly #registry = new Registry()
  readonly #requests: Counter<'dataset' | 'method' | 'outcome'>
  readonly #durations: Histogram<'dataset' | 'method'>
  readonly #connections: Gauge<'dataset'>
  readonly #connectionsTotal: Counter<'dataset'>
  readonly #stores = new Map<string, () => StoreCounts>()

  constructor() {
    const registers = [this.#registry]
    collectDefaultMetrics({ register: this.#registry })
    this.#registerStoreMetrics()
    this.#requests = new Counter({
      name: 'rpc_requests_total',
      help: 'Requests dispatched to a method, by dataset, method and outcome (ok or error code)',
      labelNames: ['dataset', 'method', 'outcome'],
      registers,
    })
    this.#durations = new Histogram({
      name: 'rpc_request_duration_seconds',
      help: 'Time from dispatch to the reply being ready, by dataset and method',
      labelNames: ['dataset', 'method'],
      buckets: DURATION_BUCKETS_S,
      registers,
    })
    this.#connections = new Gauge({
      name: 'rpc_connections_open',
      help: 'Client connections open, by dataset',
      labelNames: ['dataset'],
      registers,
    })
    this.#connectionsTotal = new Counter({
      name: 'rpc_connections_total',
      help: 'Client connections accepted, by dataset',
      labelNames: ['dataset'],
      registers,
    })
  }

  watchStore(dataset: string, read: () => StoreCounts): void {
    this.#stores.set(dataset, read)
  }

  recordRequest(dataset: string, method: string, outcome: string, durationSeconds: number): void {
    this.#requests.inc({ dataset, method, outcome })
    this.#durations.observe({ dataset, method }, durationSeconds)
  }

  recordConnection(dataset: string, delta: 1 | -1): void {
    if (delta === 1) {
      this.#connections.inc({ dataset })
      this.#connectionsTotal.inc({ dataset })
    } else {
      this.#connections.dec({ dataset })
    }
  }

  /** Store gauges and counters, filled from the watched stores when scraped. */
  #registerStoreMetrics(): void {
    const registers = [this.#registry]
    const labelNames = ['dataset'] as const
    const stores = this.#stores
    const gauged = (name: string, help: string, pick: (counts: StoreCounts) => number) => {
      new Gauge({
        name,
        help,
        labelNames,
        registers,
        collect() {
          for (const [dataset, read] of stores) this.set({ dataset }, pick(read()))
        },
      })
    }
    gauged(
      'store_queued_writes',
      'Write operations waiting for a database batch, by dataset',
      (c) => c.queuedWrites,
    )
    gauged(
      'store_database_up',
      '1 while the dataset database is reachable, 0 while it is believed down',
      (c) => (c.isDatabaseAvailable ? 1 : 0),
    )
    const counted = (name: string, help: string, pick: (counts: StoreCounts) => number) => {
      const seen = new Map<string, number>()
      new Counter({
        name,
        help,
        labelNames,
        registers,
        collect() {
          for (const [dataset, read] of stores) {
            const value = pick(read())
            this.inc({ dataset }, Math.max(0, value - (seen.get(dataset) ?? 0)))
            seen.set(dataset, value)
          }
        },
      })
    }
    counted('store_write_batches_total', 'Write batches ended, by dataset', (c) => c.writeBatches)
    counted(
      'store_batched_writes_total',
      'Write operations carried by those batches, by dataset',
      (c) => c.batchedWrites,
    )
  }

  /** The Prometheus text exposition of every metric. */
  render(): Promise<string> {
    return this.#registry.metrics()
  }

  /** The content type of `render()`'s text. */
  get contentType(): string {
    return this.#registry.contentType
  }
}
