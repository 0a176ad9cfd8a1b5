/**
 * Reading and writing flat parameter buffers as files: safetensors with the Hugging Face GPT-2
 * tensor names, and the raw little-endian float streaming that every ringtrain file format shares.
 *
 * <p>Stability: {@link org.ringtrain.ops.io.SafetensorsWriter} and
 * {@link org.ringtrain.ops.io.SafetensorsReader} are used by the driver's checkpoints and follow
 * the public safetensors format; the rest is internal to ringtrain.
 */
package org.ringtrain.ops.io;
