/**
 * Text classifiers over padded token rows: SequenceClassifier (the contract), the Transformer
 * classifier (embedding, a TransformerTrunk with a key padding mask, masked mean pooling, a linear
 * head), the stacked LSTM with explicit BPTT, their configs, activations and initialisation rule.
 *
 * <p>Must not import gpt (a sibling model), Spark, Hadoop or the ring.
 * Stability: SequenceClassifier and ClassifierConfig are used by the driver; the rest is internal.
 */
package org.ringtrain.ops.classify;
