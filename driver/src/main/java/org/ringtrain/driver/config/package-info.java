/**
 * Configuration plumbing shared by every job's config: a tree of small validated records per
 * concern, read from and written to the flat settings users write (conf/*.yaml, --set flags) and
 * checkpoints store. Holds no setting itself. May import only Jackson and the JDK.
 *
 * <p>Stability: internal to ringtrain.
 */
package org.ringtrain.driver.config;
