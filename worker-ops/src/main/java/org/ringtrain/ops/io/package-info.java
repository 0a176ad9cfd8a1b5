/**
 * safetensors files: header, reader and writer of a flat buffer by a ParameterLayout, with the
 * Hugging Face GPT-2 tensor names and layouts, so that weights move to and from the Python
 * ecosystem, and the flat-buffer I/O helpers.
 *
 * <p>Must not import model packages, Spark, Hadoop or the ring. Stability: used by the driver's
 * checkpoints; the file format is safetensors' and is frozen.
 */
package org.ringtrain.ops.io;
