// CPU time of a process group, read from Linux's /proc (NaN elsewhere), to show whether the
// server or the load generator is the bottleneck of a run.
import { execFileSync } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'

let clockTicksPerSecond: number | null = null

function readClockTicksPerSecond(): number {
  clockTicksPerSecond ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim())
  return clockTicksPerSecond
}

/** User + system CPU milliseconds of every live process in group `groupId`; NaN if unknown. */
export function readGroupCpuMs(groupId: number): number {
  if (process.platform !== 'linux') return Number.NaN
  let ticks = 0
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    ticks += readStatTicks(entry, groupId)
  }
  return (ticks / readClockTicksPerSecond()) * 1000
}

function readStatTicks(pid: string, groupId: number): number {
  let stat: string
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  } catch (error: unknown) {
    // The process exited between readdir and read: it is not ours to count.
    if (error instanceof Error) return 0
    throw error
  }
  // Fields after "pid (comm) ": state ppid pgrp session tty tpgid flags minflt cminflt majflt
  // cmajflt utime stime; comm may hold spaces, so split after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  if (Number(fields[2]) !== groupId) return 0
  return Number(fields[11]) + Number(fields[12])
}

/** CPU milliseconds of the whole machine since boot (all cores). */
export interface MachineCpu {
  /** Everything but idle and iowait, steal included. */
  readonly busyMs: number
  /** Taken by the hypervisor for other guests while this one wanted to run. */
  readonly stealMs: number
}

/** The machine's CPU time since boot; NaN off Linux. */
export function readMachineCpu(): MachineCpu {
  if (process.platform !== 'linux') return { busyMs: Number.NaN, stealMs: Number.NaN }
  const firstLine = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? ''
  // cpu user nice system idle iowait irq softirq steal ...
  const ticks = firstLine.trim().split(/\s+/).slice(1, 9).map(Number)
  const busyTicks = ticks.reduce(
    (sum, value, index) => (index === 3 || index === 4 ? sum : sum + value),
    0,
  )
  const msPerTick = 1000 / readClockTicksPerSecond()
  return { busyMs: busyTicks * msPerTick, stealMs: (ticks[7] ?? Number.NaN) * msPerTick }
}

/** Measures this process's CPU time between two performance.now() instants. */
export class WindowCpuMeter {
  #startUsage: NodeJS.CpuUsage | null = null
  #cpuMs = 0
  #isStopped = false
  readonly #timers: NodeJS.Timeout[]

  constructor(startMs: number, endMs: number) {
    const nowMs = performance.now()
    this.#timers = [
      setTimeout(() => {
        this.#startUsage = process.cpuUsage()
      }, startMs - nowMs),
      setTimeout(() => {
        this.#stop()
      }, endMs - nowMs),
    ]
  }

  get cpuMs(): number {
    return this.#cpuMs
  }

  /** Ends the measurement; takes the final sample now if the end timer has not fired yet. */
  close(): void {
    for (const timer of this.#timers) clearTimeout(timer)
    if (!this.#isStopped) this.#stop()
  }

  #stop(): void {
    this.#isStopped = true
    if (this.#startUsage === null) return
    const usage = process.cpuUsage(this.#startUsage)
    this.#cpuMs = (usage.user + usage.system) / 1000
  }
}
