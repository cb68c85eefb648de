// Entry point of a load process, forked by load-pool.ts: obeys LoadCommands, reports LoadEvents.
import { describeError } from './describe-error.js'
import { LoadLoop } from './load-loop.js'
import { isLoadCommand, type LoadCommand, type LoadEvent } from './load-protocol.js'

let loop: LoadLoop | null = null

function sendEvent(event: LoadEvent): void {
  process.send?.(event)
}

async function handleCommand(command: LoadCommand): Promise<void> {
  switch (command.type) {
    case 'prepare':
      await loop?.close()
      loop = await LoadLoop.prepare(command)
      sendEvent({ type: 'prepared' })
      return
    case 'start': {
      if (loop === null) throw new Error('start before prepare')
      // Epoch times from the coordinator, converted to this process's monotonic clock.
      const result = await loop.run(
        command.warmupEndEpochMs - performance.timeOrigin,
        command.measureEndEpochMs - performance.timeOrigin,
      )
      await loop.close()
      loop = null
      sendEvent({ type: 'result', result })
      return
    }
    case 'exit':
      await loop?.close()
      process.disconnect()
      return
    default: {
      const unreachable: never = command
      return unreachable
    }
  }
}

process.on('message', (message: unknown) => {
  if (!isLoadCommand(message)) {
    sendEvent({ type: 'failed', message: 'unknown command' })
    return
  }
  handleCommand(message).catch((error: unknown) => {
    sendEvent({ type: 'failed', message: describeError(error) })
  })
})
