/** Fixed decimals, or `-` for a value that was not measured. */
export function formatNumber(value: number, fractionDigits: number): string {
  return Number.isFinite(value) ? value.toFixed(fractionDigits) : '-'
}
