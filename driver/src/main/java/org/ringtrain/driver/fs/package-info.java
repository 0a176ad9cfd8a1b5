/**
 * Hadoop FileSystems from the driver's side: {@link org.ringtrain.driver.fs.HadoopSettings}, the one
 * serialisable form of Hadoop settings every file access (checkpoints, metrics, corpora, models) is
 * opened with, and {@link org.ringtrain.driver.fs.Preflight}, the file-system checks a job makes
 * before Spark starts.
 *
 * <p>Stability: public API.
 */
package org.ringtrain.driver.fs;
