/**
 * Python's `round(x, digits)`: half to even on the exact binary value of the double (spec §5, §6).
 * `toFixed` already rounds the exact value correctly except on exact ties, which it rounds away
 * from zero; ties are found with `toFixed(100)`, which shows every digit a tie can have.
 */
export function roundHalfEvenString(x: number, digits: number): string {
  if (!Number.isFinite(x) || Math.abs(x) >= 1e21) {
    return String(x);
  }
  const neg = x < 0;
  const abs = Math.abs(x);
  const exact = abs.toFixed(100);
  const dot = exact.indexOf('.');
  const rest = exact.slice(dot + 1 + digits);
  let out: string;
  if (/^50*$/.test(rest)) {
    const kept = digits === 0 ? exact.slice(0, dot) : exact.slice(0, dot + 1 + digits);
    const lastDigit = Number(kept[kept.length - 1]);
    out = lastDigit % 2 === 0 ? kept : abs.toFixed(digits);
  } else {
    out = abs.toFixed(digits);
  }
  return neg && /[1-9]/.test(out) ? `-${out}` : out;
}

export function roundHalfEven(x: number, digits: number): number {
  return Number(roundHalfEvenString(x, digits));
}

/** `round(detected / capacity * 100, 1)` printed with one decimal and `%`, uncapped. */
export function occupancyPercentage(detected: number, capacity: number): string {
  const q = detected / capacity;
  const p = q * 100;
  return `${roundHalfEvenString(p, 1)}%`;
}

/** The head-count ratio stored as saved_amount: 0.0 when Gemini saw nobody, else 4 decimals. */
export function carbonRatio(detected: number, geminiCount: number): number {
  return geminiCount === 0 ? 0 : roundHalfEven(detected / geminiCount, 4);
}
