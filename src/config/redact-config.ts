/** Copies of a config that are safe to log or print: passwords in URLs are replaced. */
import type {
  ClientConfig,
  DatasetConfig,
  NetworkAddress,
  ServerConfig,
  StorageConfig,
} from './config.js'

/** What a password is replaced with. */
export const REDACTED_PASSWORD = '***'

/** Replaces the password of a `scheme://user:password@host…` URL; other text is unchanged. */
export function redactUrl(text: string): string {
  if (!/^[a-z][a-z0-9+.-]*:\/\/[^/?#]*@/i.test(text)) return text
  if (URL.canParse(text)) {
    const url = new URL(text)
    if (url.password === '') return text
    url.password = REDACTED_PASSWORD
    return url.href
  }
  // Unparseable but has user info: hide all of it rather than guess where the password ends.
  return text.replace(/^([a-z][a-z0-9+.-]*:\/\/).*@/i, `$1${REDACTED_PASSWORD}@`)
}

/** A frozen copy of `config` with every URL password replaced by `***`. */
export function redactConfig(config: ServerConfig): ServerConfig
export function redactConfig(config: ClientConfig): ClientConfig
export function redactConfig(config: ServerConfig | ClientConfig): ServerConfig | ClientConfig {
  if ('datasets' in config) {
    return Object.freeze({ ...config, datasets: Object.freeze(config.datasets.map(redactDataset)) })
  }
  return Object.freeze({ ...config, serverAddress: redactAddress(config.serverAddress) })
}

function redactDataset(dataset: DatasetConfig): DatasetConfig {
  return Object.freeze({
    ...dataset,
    storage: redactStorage(dataset.storage),
    listen: Object.freeze(dataset.listen.map(redactAddress)),
  })
}

function redactStorage(storage: StorageConfig): StorageConfig {
  return storage.kind === 'postgres'
    ? Object.freeze({ kind: 'postgres', url: redactUrl(storage.url) })
    : storage
}

function redactAddress(address: NetworkAddress): NetworkAddress {
  if (address.kind !== 'websocket') return address
  return Object.freeze({ ...address, url: redactUrl(address.url), text: redactUrl(address.text) })
}
