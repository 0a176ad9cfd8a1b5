// A token that is equal for two ranks only when they run on the same host
// (the same kernel) and in the same network namespace: it decides whether a
// neighbour is worth trying over a Unix domain socket. It is a hint, not a
// proof: a wrong "same host" costs one failed connect and a fallback to TCP, and
// the handshake authenticates either way. It is not an address check: two
// namespaces that share a filesystem can still reach each other's socket files,
// which is exactly why the namespace has to be part of the token.
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
   * TCP only). Two containers with the same host name on different machines differ by boot id;
   * two network namespaces on one kernel (containers, or "hosts" made with {@code ip netns}) differ
   * by the namespace's inode, so ranks there link over TCP like ranks on separate machines, even
   * though path-based Unix sockets would reach across namespaces through the shared filesystem.
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
    String netNamespace = networkNamespace();
    if (hostName == null && bootId == null) {
      LOG.info("neither a host name nor a boot id is readable: ring links will use TCP only");
      return null;
    }
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(
          (hostName + "\n" + bootId + "\n" + netNamespace).getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(digest).substring(0, TOKEN_HEX_DIGITS);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java platform must provide SHA-256", e);
    }
  }

  /**
   * This process's network namespace as the kernel names it, e.g. "net:[4026531833]" (the link
   * target of /proc/self/ns/net, whose number is the namespace's inode), or null where there is no
   * such link (not Linux): then the host name and boot id decide alone.
   */
  static String networkNamespace() {
    try {
      return Files.readSymbolicLink(Path.of("/proc/self/ns/net")).toString();
    } catch (IOException | UnsupportedOperationException | SecurityException e) {
      return null;
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
