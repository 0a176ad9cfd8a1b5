/**
 * The model maths of ringtrain on ND4J: a GPT-2 style decoder with explicit forward and backward
 * passes over one flat parameter buffer, its optimizers and its generation. No Spark here.
 *
 * <p>Every tensor declares its shape in a trailing comment with these fixed letters:
 * <table>
 *   <caption>Shape letters</caption>
 *   <tr><th>letter</th><th>meaning</th></tr>
 *   <tr><td>B</td><td>batch size (sequences per micro-batch)</td></tr>
 *   <tr><td>T</td><td>sequence length of the current batch, at most the context length</td></tr>
 *   <tr><td>C</td><td>channels, the model width (dModel)</td></tr>
 *   <tr><td>V</td><td>vocabulary size</td></tr>
 *   <tr><td>L</td><td>number of Transformer blocks (layers)</td></tr>
 *   <tr><td>NH</td><td>number of attention heads</td></tr>
 *   <tr><td>HS</td><td>head size, C / NH</td></tr>
 * </table>
 * A shape written {@code [B*T, C]} is a 2-D matrix whose rows are the tokens of the batch in
 * row-major (b, t) order.
 *
 * <p>Stability: internal to ringtrain; the driver is its only user and may change with it.
 */
package org.ringtrain.ops;
