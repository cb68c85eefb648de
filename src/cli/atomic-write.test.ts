import { strict as assert } from 'node:assert'
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { writeFileAtomic } from './atomic-write.js'

async function makeDir(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'prserv-atomic-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  return dir
}

test('atomic write: creates, replaces, and on failure leaves no temp file', async (t) => {
  const dir = await makeDir(t)
  const path = join(dir, 'out.txt')
  await writeFileAtomic(path, (write) => write('first\n'))
  await writeFile(join(dir, 'other.txt'), 'x')
  assert.equal(await writeFileAtomic(path, (write) => write('second\n').then(() => 7)), 7)
  assert.equal(await readFile(path, 'utf8'), 'second\n')
  await mkdir(join(dir, 'sub'))
  await assert.rejects(
    writeFileAtomic(join(dir, 'sub'), (write) => write('x')),
    { code: 'EISDIR' },
  )
  await assert.rejects(
    writeFileAtomic(join(dir, 'nope', 'out.txt'), (write) => write('x')),
    { code: 'ENOENT' },
  )
  assert.deepEqual((await readdir(dir)).sort(), ['other.txt', 'out.txt', 'sub'])
})

test('atomic write: many pieces, past the write buffer, land whole and in order', async (t) => {
  const dir = await makeDir(t)
  const path = join(dir, 'big.txt')
  const piece = (n: number): string => `${String(n).padStart(7, '0')} ${'é'.repeat(40)}\n`
  await writeFileAtomic(path, async (write) => {
    for (let n = 0; n < 60_000; n++) await write(piece(n))
  })
  const lines = (await readFile(path, 'utf8')).split('\n')
  assert.equal(lines.length, 60_001)
  assert.equal(lines[59_999], piece(59_999).trimEnd())
  assert.ok(lines.slice(0, -1).every((line, n) => `${line}\n` === piece(n)))
})

test('atomic write: a producer that fails midway leaves the old file and no temp file', async (t) => {
  const dir = await makeDir(t)
  const path = join(dir, 'out.txt')
  await writeFile(path, 'old\n')
  const failure = new Error('source went away')
  await assert.rejects(
    writeFileAtomic(path, async (write) => {
      for (let n = 0; n < 30_000; n++) await write(`${'x'.repeat(99)}\n`)
      throw failure
    }),
    (error: unknown) => error === failure,
  )
  assert.equal(await readFile(path, 'utf8'), 'old\n')
  assert.deepEqual(await readdir(dir), ['out.txt'])
})
