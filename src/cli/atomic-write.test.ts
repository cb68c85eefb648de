import { strict as assert } from 'node:assert'
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { writeFileAtomic } from './atomic-write.js'

test('atomic write: creates, replaces, and on failure leaves no temp file', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'prserv-atomic-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  const path = join(dir, 'out.txt')
  await writeFileAtomic(path, 'first\n')
  await writeFile(join(dir, 'other.txt'), 'x')
  await writeFileAtomic(path, 'second\n')
  assert.equal(await readFile(path, 'utf8'), 'second\n')
  await mkdir(join(dir, 'sub'))
  await assert.rejects(writeFileAtomic(join(dir, 'sub'), 'x'), { code: 'EISDIR' })
  await assert.rejects(writeFileAtomic(join(dir, 'nope', 'out.txt'), 'x'), { code: 'ENOENT' })
  assert.deepEqual((await readdir(dir)).sort(), ['other.txt', 'out.txt', 'sub'])
})
