/**
 * CPU limits as the Docker provider spells them.
 *
 * The provider parses `cpus` with Docker's own parser, stores nano-CPUs, and
 * reads them back through a formatter of its own (terraform-provider-docker's
 * `nanoInt64ToDecimalString`): nine decimals, then "1.0" when the text holds
 * exactly nine zeros, else trailing zeros trimmed. So 1 reads back as "1.0",
 * 10 as "10." and 0.05 as "0.1". `cpus` forces replacement, so any input
 * spelled differently from the read-back replaces the container on every `up`.
 *
 * Hand-written on purpose: no library reproduces that formatter, and it is a
 * few lines of exact integer arithmetic.
 */

const NANO = 1_000_000_000n;

/** Nano-CPUs Docker stores for a CPU count (Docker rounds to whole nano-CPUs): what a Swarm service's limits take. */
export function nanoCpus(cpus: number): number {
    return Math.round(cpus * 1e9);
}

/** Go's big.Rat FloatString(1): one decimal, halves rounded away from zero. */
function oneDecimal(nano: bigint): string {
    let tenths = (nano * 10n) / NANO;
    if (((nano * 10n) % NANO) * 2n >= NANO) tenths += 1n;
    return `${tenths / 10n}.${tenths % 10n}`;
}

/** The `cpus` string the provider reads back for a CPU count: send exactly this. */
export function providerCpus(cpus: number): string {
    const nano = BigInt(nanoCpus(cpus));
    if (nano === 0n) return "0";
    const nine = `${nano / NANO}.${(nano % NANO).toString().padStart(9, "0")}`;
    if ([...nine].filter((c) => c === "0").length === 9) return oneDecimal(nano);
    return nine.replace(/0+$/, "");
}

/** True when the provider reads the CPU count back as the same number, so a plan can be stable. */
export function cpusRoundTrip(cpus: number): boolean {
    return Number(providerCpus(cpus)) === cpus;
}
