import { test } from 'node:test'
import assert from 'node:assert/strict'
import { FrameQueue } from './frame-queue.js'

function createQueue(highWaterChars: number): { queue: FrameQueue; events: string[] } {
  const events: string[] = []
  const flow = { pause: () => events.push('pause'), resume: () => events.push('resume') }
  return { queue: new FrameQueue(flow, highWaterChars), events }
}

test('frame queue: delivers frames in order, then the end', async () => {
  const { queue } = createQueue(100)
  queue.push('a')
  const pending = queue.next()
  queue.push('b')
  queue.end()
  queue.push('ignored')
  assert.deepEqual(await pending, { done: false, value: 'a' })
  assert.deepEqual(await queue.next(), { done: false, value: 'b' })
  assert.deepEqual(await queue.next(), { done: true, value: undefined })
})

test('frame queue: a waiting consumer gets the next frame directly', async () => {
  const { queue } = createQueue(100)
  const pending = queue.next()
  queue.push('x')
  assert.deepEqual(await pending, { done: false, value: 'x' })
})

test('frame queue: pauses at the high-water mark and resumes once drained', async () => {
  const { queue, events } = createQueue(4)
  queue.push('ab')
  assert.deepEqual(events, [])
  queue.push('cd')
  assert.deepEqual(events, ['pause'])
  await queue.next()
  await queue.next()
  assert.deepEqual(events, ['pause'])
  const pending = queue.next()
  assert.deepEqual(events, ['pause', 'resume'])
  queue.push('e')
  assert.deepEqual(await pending, { done: false, value: 'e' })
})

test('frame queue: a failure comes after the queued frames, once', async () => {
  const { queue } = createQueue(100)
  queue.push('a')
  queue.fail(new Error('boom'))
  assert.deepEqual(await queue.next(), { done: false, value: 'a' })
  await assert.rejects(queue.next(), /boom/)
  assert.deepEqual(await queue.next(), { done: true, value: undefined })
})

test('frame queue: a failure reaches a waiting consumer; discard drops frames', async () => {
  const { queue } = createQueue(100)
  const pending = queue.next()
  queue.fail(new Error('reset'))
  await assert.rejects(pending, /reset/)
  const other = createQueue(100).queue
  other.push('a')
  other.discard()
  assert.deepEqual(await other.next(), { done: true, value: undefined })
})

test('frame queue: many frames consumed one by one stay in order', async () => {
  const { queue } = createQueue(1_000_000)
  for (let i = 0; i < 5000; i++) queue.push(String(i))
  for (let i = 0; i < 5000; i++)
    assert.deepEqual(await queue.next(), { done: false, value: String(i) })
})
