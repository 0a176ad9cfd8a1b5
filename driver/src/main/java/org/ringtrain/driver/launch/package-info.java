/**
 * How a ringtrain job (a {@code jobs} command) runs its Spark application:
 * {@link org.ringtrain.driver.launch.SparkJobConf} holds the settings known before Spark starts (the
 * master, the Hadoop settings) and starts a {@link org.ringtrain.driver.launch.SparkJob}, which the
 * driver's entry points take and the job stops when done. The jobs module sees no Spark type.
 *
 * <p>Must not import train, gpt or classify: it starts and stops Spark, nothing more.
 *
 * <p>Stability: public API for the jobs module; the Spark settings it chooses are internal.
 */
package org.ringtrain.driver.launch;
