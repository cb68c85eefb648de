/** Registers the option table of src/config on a commander command. */
import { Option } from 'commander'
import type { Command } from 'commander'
import { collectRepeatable } from '../config/config-flags.js'
import type { OptionSpec } from '../config/config-options.js'
import { formatCommanderFlags, formatOptionHelp } from '../config/config-options.js'

/** Adds every option; no commander defaults, so absent flags leave file and env values alone. */
export function addOptions<F>(command: Command, specs: readonly OptionSpec<F>[]): void {
  for (const spec of specs) {
    const option = new Option(formatCommanderFlags(spec), formatOptionHelp(spec))
    if (spec.arity === 'list') option.argParser(collectRepeatable)
    command.addOption(option)
  }
}
