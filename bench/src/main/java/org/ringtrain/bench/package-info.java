/**
 * Benchmark commands. Each prints ratios measured side by side in one run, because the machines
 * they run on are shared and noisy; results are recorded in {@code docs/benchmarks.md}.
 *
 * <p>May import every module (it measures them side by side); nothing may import it.
 *
 * <p>Stability: internal; not shipped.
 */
package org.ringtrain.bench;
