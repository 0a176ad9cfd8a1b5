/**
 * Optimizers on the flat buffers (AdamW, SGD), learning-rate schedules, gradient clipping,
 * step checks and the optimizer-state file format. They walk the flat buffer by ranges (decay follows
 * ParameterLayout's tensor boundaries), never tensor by tensor.
 *
 * <p>Must not import model packages (gpt, classify, transformer), Spark or the ring.
 * Stability: AdamW, Sgd, the schedules and the state reader/writer are used by the driver.
 */
package org.ringtrain.ops.optim;
