/**
 * The error hierarchy shared by every layer. Each error has a stable `code` (listed in
 * docs/errors.md); `toWireError` in rpc/dispatcher.ts is the only place that maps them to
 * the wire.
 */

/** Every error code used in the code base (the server's, and the client's last two). */
export const ERROR_CODES = [
  'protocol_error',
  'invalid_request',
  'invalid_params',
  'read_only',
  'storage_error',
  'upstream_error',
  'config_error',
  'internal_error',
  'connection_error',
  'remote_error',
] as const
export type ErrorCode = (typeof ERROR_CODES)[number]

/** Base class: an error with a stable code. */
export class RpcError extends Error {
  override name = 'RpcError'
  readonly code: ErrorCode
  constructor(code: ErrorCode, message: string, options?: ErrorOptions) {
    super(message, options)
    this.code = code
  }
}

/** The peer broke the wire protocol (framing, handshake, caps): the connection closes. */
export class ProtocolError extends RpcError {
  override name = 'ProtocolError'
  constructor(message: string, options?: ErrorOptions) {
    super('protocol_error', message, options)
  }
}

/**
 * A line or message over a size cap. The size is the message's own, so sending the request
 * again cannot help: clients do not retry it.
 */
export class MessageTooLargeError extends ProtocolError {
  override name = 'MessageTooLargeError'
}

/** A message that is not a request we know (unknown command, not an object). */
export class InvalidRequestError extends RpcError {
  override name = 'InvalidRequestError'
  constructor(message: string, options?: ErrorOptions) {
    super('invalid_request', message, options)
  }
}

/** A known command with missing or mistyped parameters. */
export class InvalidParamsError extends RpcError {
  override name = 'InvalidParamsError'
  constructor(message: string, options?: ErrorOptions) {
    super('invalid_params', message, options)
  }
}

/** A write was attempted on a read-only server or store. */
export class ReadOnlyError extends RpcError {
  override name = 'ReadOnlyError'
  constructor(message: string, options?: ErrorOptions) {
    super('read_only', message, options)
  }
}

/** The database failed; the driver error is the `cause`. */
export class StorageError extends RpcError {
  override name = 'StorageError'
  constructor(message: string, options?: ErrorOptions) {
    super('storage_error', message, options)
  }
}

/** An upstream server could not be reached or answered wrongly. */
export class UpstreamError extends RpcError {
  override name = 'UpstreamError'
  constructor(message: string, options?: ErrorOptions) {
    super('upstream_error', message, options)
  }
}

/** A bad configuration value; the message names the key, the value and its source. */
export class ConfigError extends RpcError {
  override name = 'ConfigError'
  constructor(message: string, options?: ErrorOptions) {
    super('config_error', message, options)
  }
}

/**
 * A client could not complete a request: the connection was refused, reset or closed early, or
 * a reply timed out. The message names the server address. Clients retry these.
 */
export class ConnectionError extends RpcError {
  override name = 'ConnectionError'
  constructor(message: string, options?: ErrorOptions) {
    super('connection_error', message, options)
  }
}

/**
 * The server answered a request with `{"invoke-error": {"message": …}}`; `message` is the
 * server's text. Clients never retry it.
 */
export class RemoteError extends RpcError {
  override name = 'RemoteError'
  constructor(message: string, options?: ErrorOptions) {
    super('remote_error', message, options)
  }
}
