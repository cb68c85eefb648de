/**
 * Writing a file so that readers see the old contents or the whole new contents, never a
 * part: a temp file in the same directory, fsync, rename over the target, fsync the directory.
 */
import { randomBytes } from 'node:crypto'
import { open, rename, rm } from 'node:fs/promises'
import type { FileHandle } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'

/** Text the writer gathers before it writes to the file. */
const WRITE_CHUNK_CHARS = 1 << 20

/**
 * Replaces (or creates) `path` atomically with text made piece by piece: `produce` hands each
 * piece to `write` (and waits for it), and the file replaces `path` once `produce` resolves,
 * with what it resolved with. On failure (of `produce` or of the file system, for example
 * ENOENT when the directory does not exist) the target is unchanged, the temp file is removed
 * and the error is rethrown.
 */
export async function writeFileAtomic<T>(
  path: string,
  produce: (write: (text: string) => Promise<void>) => Promise<T>,
): Promise<T> {
  const directory = dirname(path)
  const temp = join(directory, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`)
  let handle: FileHandle | null = null
  let result: T
  try {
    const file = await open(temp, 'wx')
    handle = file
    let pieces: string[] = []
    let pendingChars = 0
    const flush = async (): Promise<void> => {
      const text = pieces.join('')
      pieces = []
      pendingChars = 0
      // From the current position, all of it (FileHandle.write may write a part).
      await file.writeFile(text, 'utf8')
    }
    result = await produce(async (text) => {
      pieces.push(text)
      pendingChars += text.length
      if (pendingChars >= WRITE_CHUNK_CHARS) await flush()
    })
    await flush()
    await file.sync()
    handle = null
    await file.close()
    await rename(temp, path)
  } catch (error: unknown) {
    await handle?.close().catch(() => undefined)
    await rm(temp, { force: true })
    throw error
  }
  await syncDirectory(directory)
  return result
}

/** Makes the rename durable. Best effort: some platforms cannot open a directory. */
async function syncDirectory(directory: string): Promise<void> {
  let handle: FileHandle | null = null
  try {
    handle = await open(directory, 'r')
    await handle.sync()
  } catch {
    // The file is complete and in place either way; only its durability across a power cut
    // is left to the operating system here.
  } finally {
    await handle?.close()
  }
}
