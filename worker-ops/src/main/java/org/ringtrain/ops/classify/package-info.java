/**
 * Text classifiers on the flat parameter buffer: a bidirectional Transformer encoder and a stacked
 * LSTM, each mapping padded token rows to class probabilities with an explicit forward and backward
 * pass, trained by the same data-parallel loop as the GPT through
 * {@link org.ringtrain.ops.model.TrainableModel}.
 *
 * <p>Shape letters as in {@link org.ringtrain.ops}, plus K (number of classes), H (LSTM hidden
 * size, equal to C) and T' (the longest row of the current batch, at most maxLen). Arrays written
 * {@code [T*B, X]} are time-major: rows of step t are {@code t*B .. t*B+B-1}.
 *
 * <p>Stability: public API ({@link org.ringtrain.ops.classify.SequenceClassifier} and
 * {@link org.ringtrain.ops.classify.ClassifierConfig}; the layer classes are package-private).
 */
package org.ringtrain.ops.classify;
