/**
 * Text classification as Spark ML pipeline stages: the {@link org.ringtrain.driver.classify.TextClassifier}
 * estimator (vocabulary, optional pretrained word vectors, data-parallel training of a Transformer or
 * LSTM encoder through the same barrier stage and ring as GPT training) and the
 * {@link org.ringtrain.driver.classify.TextClassificationModel} it fits (batch inference on the
 * executors, token-level explanations, ML persistence).
 *
 * <p>Must not import driver.gpt or ops.gpt (a sibling model); it trains through driver.train.
 *
 * <p>Stability: {@code TextClassifier}, {@code TextClassificationModel}, {@code Vocabulary},
 * {@code TokenWeight} and {@code Explanation} are public API; the rest is internal.
 */
package org.ringtrain.driver.classify;
