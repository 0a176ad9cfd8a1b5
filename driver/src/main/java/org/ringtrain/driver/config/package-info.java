/**
 * Configuration plumbing shared by every job's config: a tree of small validated records per
 * concern, read from and written to the flat settings users write (conf/*.yaml, --set flags) and
 * checkpoints store (FlatSettings), and the one precondition helper of those records (Checks).
 *
 * <p>Holds no setting itself. Must not import Spark, Hadoop, ND4J or other driver packages.
 * Stability: internal to ringtrain.
 */
package org.ringtrain.driver.config;
