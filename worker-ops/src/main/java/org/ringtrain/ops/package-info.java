/**
 * worker-ops: the model maths on ND4J. Its packages are layers of their own: param (generic
 * parameter and memory machinery) and runtime (ND4J threads) at the bottom; layers (forward/backward
 * functions); transformer (the one Transformer block) on layers; gpt and classify (models) on
 * transformer; optim and io on param.
 *
 * <p>Tensor shapes in comments use fixed letters: B batch, T sequence length, C width, V vocabulary,
 * L blocks, NH heads, HS head size (C / NH), K classes, H LSTM hidden size.
 *
 * <p>Must not import Spark, Hadoop or org.ringtrain.sync (build/import-control.xml).
 * Stability: internal to ringtrain; the driver is its only user.
 */
package org.ringtrain.ops;
