/*
 * Checks: the one precondition helper of the config records, so every rejected setting reads the
 * same way: what was found, and what to do. It holds no setting.
 */
package org.ringtrain.driver.config;

/** {@code invalid train config: <key> = <value>; <hint>}. */
public final class Checks {

  private Checks() {
  }

  /** Throws IllegalArgumentException naming {@code key}, {@code value} and {@code hint} unless {@code ok}. */
  public static void require(boolean ok, String key, Object value, String hint) {
    if (!ok) {
      throw new IllegalArgumentException("invalid train config: " + key + " = " + value + "; " + hint);
    }
  }

  /** A finite number at least {@code min}: rejects NaN and Infinity, which would poison every step. */
  public static void requireFinite(double value, double min, String key, String hint) {
    require(Double.isFinite(value) && value >= min, key, value, hint);
  }

  /** {@code s} or "" when null. */
  public static String orEmpty(String s) {
    return s == null ? "" : s;
  }
}
