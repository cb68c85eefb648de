/**
 * JSON messages over a channel's frames, shared by server connections and clients: chunk-stream
 * reassembly and chunking on stream channels, one message per frame on WebSockets (§8.6).
 */
import {
  ChunkAssembler,
  isSingleLineMessage,
  MessageLineSplitter,
  splitMessageLines,
} from '../protocol/chunking.js'
import { decodeJson, encodeJson } from '../protocol/codec.js'
import { ProtocolError } from '../protocol/errors.js'
import type { ChannelKind, MessageChannel } from '../transport/channel.js'

/** Returns the next received frame, or undefined at the end of the frames. */
export type NextFrame = () => Promise<string | undefined>

/** The outcome of reading one message. */
export type ReadResult =
  { readonly done: true } | { readonly done: false; readonly message: unknown }

const DONE: ReadResult = { done: true }

/** Reads whole JSON messages from a channel's frames. */
export class MessageReader {
  readonly #nextFrame: NextFrame
  readonly #assembler: ChunkAssembler | null

  /** `maxMessageBytes` caps a reassembled chunk stream (stream channels only). */
  constructor(nextFrame: NextFrame, kind: ChannelKind, maxMessageBytes: number) {
    this.#nextFrame = nextFrame
    this.#assembler = kind === 'stream' ? new ChunkAssembler({ maxMessageBytes }) : null
  }

  /**
   * The next message, or `done` at a clean end of the frames. Throws ProtocolError for invalid
   * JSON, an oversized chunk stream, or an end of frames inside a chunk stream.
   */
  async read(): Promise<ReadResult> {
    const assembler = this.#assembler
    if (assembler === null) {
      const frame = await this.#nextFrame()
      return frame === undefined ? DONE : { done: false, message: decodeJson(frame) }
    }
    for (;;) {
      const frame = await this.#nextFrame()
      if (frame === undefined) {
        if (assembler.isAssembling) throw new ProtocolError('end of stream inside a chunk stream')
        return DONE
      }
      const step = assembler.push(frame)
      if (step.isComplete) return { done: false, message: step.message }
    }
  }
}

/**
 * Sends one JSON message in Python's JSON spelling: one frame, or a chunk stream when a stream
 * channel carries 32 767 characters or more.
 */
export function sendMessage(channel: MessageChannel, message: unknown): Promise<void> {
  return sendEncodedMessage(channel, encodeJson(message))
}

/** Sends an already serialised message like sendMessage (for clients that retry it). */
export function sendEncodedMessage(channel: MessageChannel, text: string): Promise<void> {
  if (channel.kind === 'websocket' || isSingleLineMessage(text)) return channel.sendFrame(text)
  return sendFrames(channel, splitMessageLines(text))
}

/** Sends frames in order, waiting for backpressure between them. */
export async function sendFrames(
  channel: MessageChannel,
  frames: readonly string[],
): Promise<void> {
  for (const frame of frames) await channel.sendFrame(frame)
}

/**
 * Sends a message given as consecutive pieces of its serialised text, with the frames
 * sendEncodedMessage makes of the whole text. On a stream channel each line goes out once
 * complete, so a long message is never held whole; a WebSocket frame needs the whole text.
 * `onFirstSend` is called before the first frame is handed to the channel.
 */
export async function sendStreamedMessage(
  channel: MessageChannel,
  pieces: AsyncIterable<string>,
  onFirstSend: () => void,
): Promise<void> {
  if (channel.kind === 'websocket') {
    const text = await joinPieces(pieces)
    onFirstSend()
    return channel.sendFrame(text)
  }
  const splitter = new MessageLineSplitter()
  let hasSent = false
  const send = async (lines: readonly string[]): Promise<void> => {
    if (lines.length === 0) return
    if (!hasSent) onFirstSend()
    hasSent = true
    await sendFrames(channel, lines)
  }
  for await (const piece of pieces) await send(splitter.push(piece))
  await send(splitter.end())
}

/** The whole text of a message given in pieces. */
export async function joinPieces(pieces: AsyncIterable<string>): Promise<string> {
  let text = ''
  for await (const piece of pieces) text += piece
  return text
}
