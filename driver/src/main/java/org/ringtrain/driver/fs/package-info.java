/**
 * Hadoop file access in one place: the serialisable HadoopSettings every file access opens its
 * FileSystem through, input resolution (InputFiles) and the checks before Spark starts (Preflight).
 *
 * <p>Must not import train, gpt, classify or Spark's task APIs. Stability: public API of the driver.
 */
package org.ringtrain.driver.fs;
