// A token that is equal for two ranks only when they run on the same host
// (the same kernel): it decides whether a neighbour is worth trying over a Unix
// domain socket. It is a hint, not a proof: a wrong "same host" costs one failed
// connect and a fallback to TCP, and the handshake authenticates either way.
package org.ringtrain.sync;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** This host's identity token, computed once per JVM. */
final class HostIdentity {
  private static final Logger LOG = LoggerFactory.getLogger(HostIdentity.class);
  /** Hex digits of the token: 64 bits of SHA-256, plenty to tell a cluster's hosts apart. */
  private static final int TOKEN_HEX_DIGITS = 16;
  private static final String TOKEN = compute();

  private HostIdentity() {
  }

  /**
   * The token, or null when neither a host name nor a boot id can be read (then this rank uses
   * TCP only). Two containers with the same host name on different machines differ by boot id.
   */
  static String token() {
    return TOKEN;
  }

  private static String compute() {
    String hostName = readTrimmed(Path.of("/proc/sys/kernel/hostname"));
    if (hostName == null) {
      try {
        hostName = InetAddress.getLocalHost().getHostName();
      } catch (IOException e) {
        hostName = null;
      }
    }
    String bootId = readTrimmed(Path.of("/proc/sys/kernel/random/boot_id"));
    if (hostName == null && bootId == null) {
      LOG.info("neither a host name nor a boot id is readable: ring links will use TCP only");
      return null;
    }
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(
          (hostName + "\n" + bootId).getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(digest).substring(0, TOKEN_HEX_DIGITS);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java platform must provide SHA-256", e);
    }
  }

  private static String readTrimmed(Path file) {
    try {
      String text = Files.readString(file, StandardCharsets.UTF_8).trim();
      return text.isEmpty() ? null : text;
    } catch (IOException | RuntimeException e) {
      return null; // not Linux, or /proc not mounted: the other source may still do
    }
  }
}
