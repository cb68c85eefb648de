/**
 * The one interface every transport implements. A channel carries text frames: on TCP and Unix
 * sockets a frame is one line (its LF, and a CR before it, removed); on WebSockets a frame is
 * one text message. The RPC layer above builds handshakes, JSON messages and chunk streams from
 * frames and never sees bytes.
 */

/** How frames map onto the wire; decides whether long JSON messages are chunked. */
export type ChannelKind = 'stream' | 'websocket'

/** A bidirectional connection carrying text frames. */
export interface MessageChannel {
  /** The peer's address for logs, e.g. "127.0.0.1:40312", "[::1]:40312", "unix". */
  readonly peer: string
  readonly kind: ChannelKind
  /**
   * Received frames, in order. Ends when the peer closes cleanly; throws ProtocolError for an
   * over-long line, invalid UTF-8 or a partial line at end of stream. Iterate at most once.
   */
  frames(): AsyncIterable<string>
  /** Sends one frame (a line gets its LF appended). Resolves once the transport accepted it
   * without exceeding its buffer (backpressure). */
  sendFrame(text: string): Promise<void>
  /** Closes the connection after flushing what was sent. Idempotent. */
  close(): Promise<void>
}
