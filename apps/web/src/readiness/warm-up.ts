import type { Logger } from '@herald/shared';

export type WarmUpStep = { name: string; run: () => Promise<unknown> };

/** Whether the warm-up has ended; /readyz answers 503 until it has (see routes/health.ts). */
export type WarmUp = { finished(): boolean; settled: Promise<void> };

/** A step slower than this counts as failed, so a dependency that never answers cannot hold readiness back. */
const defaultStepTimeoutMs = 10_000;

/**
 * Runs the warm-up steps side by side, once, so the first requests after /readyz turns 200 do not
 * pay for opening connections and compiling templates. A failed or timed-out step is logged and
 * the warm-up still ends: readiness then follows the dependency checks alone, and the process
 * keeps running (what failed here fails the checks too, or costs only the first requests time).
 */
export function startWarmUp(steps: WarmUpStep[], logger: Logger, { stepTimeoutMs = defaultStepTimeoutMs } = {}): WarmUp {
  let finished = false;
  const started = Date.now();
  const settled = Promise.all(steps.map((step) => runStep(step, stepTimeoutMs, logger))).then((outcomes) => {
    finished = true;
    logger.info({ ms: Date.now() - started, failed: steps.filter((_, i) => !outcomes[i]).map((step) => step.name) }, 'warm-up finished');
  });
  return { finished: () => finished, settled };
}

async function runStep(step: WarmUpStep, stepTimeoutMs: number, logger: Logger): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`did not finish within ${stepTimeoutMs} ms`)), stepTimeoutMs);
  });
  try {
    // A step that throws before returning its promise is a failed step like any other.
    await Promise.race([Promise.resolve().then(step.run), timedOut]);
    return true;
  } catch (err) {
    logger.warn({ err, step: step.name }, 'warm-up step failed');
    return false;
  } finally {
    clearTimeout(timer);
  }
}
