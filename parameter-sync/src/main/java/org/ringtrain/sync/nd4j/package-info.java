/**
 * The ring's only contact with ND4J: zero-copy views of float32 INDArrays as the direct buffers
 * the ring reduces in place. ND4J is a provided dependency of this module.
 *
 * <p>Stability: public API.
 */
package org.ringtrain.sync.nd4j;
