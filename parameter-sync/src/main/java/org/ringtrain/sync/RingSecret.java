// The per-run shared secret that ranks prove knowledge of before any tensor
// bytes flow. It is made on the driver and shipped with the tasks. It never
// prints: toString is redacted and no error message includes it.
package org.ringtrain.sync;

import java.io.Serializable;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Base64;

/** A per-run secret for the ring handshake (HMAC-SHA256 key). Immutable; never logged. */
public final class RingSecret implements Serializable {
  private static final long serialVersionUID = 1L;

  /** Minimum key length in bytes; HMAC-SHA256 keys shorter than this are refused. */
  public static final int MIN_BYTES = 16;
  /** Length of a {@link #generate()}d secret in bytes. */
  public static final int GENERATED_BYTES = 32;

  private final byte[] key;

  private RingSecret(byte[] key) {
    if (key.length < MIN_BYTES) {
      throw new IllegalArgumentException("ring secret must be at least " + MIN_BYTES
          + " bytes, but found " + key.length + " bytes; use RingSecret.generate()");
    }
    this.key = key.clone();
  }

  /** A fresh random secret from {@link SecureRandom}. */
  public static RingSecret generate() {
    byte[] key = new byte[GENERATED_BYTES];
    new SecureRandom().nextBytes(key);
    return new RingSecret(key);
  }

  /** A secret from raw bytes (copied), at least {@value #MIN_BYTES} long. */
  public static RingSecret of(byte[] key) {
    return new RingSecret(key);
  }

  /** A secret from its Base64 form, e.g. read from a Kubernetes Secret or an environment variable. */
  public static RingSecret fromBase64(String base64) {
    try {
      return new RingSecret(Base64.getDecoder().decode(base64.trim()));
    } catch (IllegalArgumentException e) {
      // Never echo the input: it is the secret.
      throw new IllegalArgumentException("ring secret is not valid Base64; generate one with "
          + "'head -c 32 /dev/urandom | base64'", null);
    }
  }

  /** A copy of the key bytes (tests and the Spark task closure only; never log them). */
  byte[] keyBytes() {
    return key.clone();
  }

  /**
   * HMAC-SHA256 with this secret over the concatenation of {@code parts}: the way other channels of
   * a run (e.g. the metrics channel to the driver) prove knowledge of the secret without sending it.
   */
  public byte[] mac(byte[]... parts) {
    try {
      javax.crypto.Mac hmac = javax.crypto.Mac.getInstance("HmacSHA256");
      hmac.init(new javax.crypto.spec.SecretKeySpec(key, "HmacSHA256"));
      for (byte[] part : parts) {
        hmac.update(part);
      }
      return hmac.doFinal();
    } catch (java.security.GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is unavailable in this JVM", e);
    }
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof RingSecret other && java.security.MessageDigest.isEqual(key, other.key);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(key);
  }

  /** Always redacted. */
  @Override
  public String toString() {
    return "RingSecret[redacted]";
  }
}
