/*
 * RingSettings: how the ranks' ring all-reduce is set up (bucket size, wire codec, transport,
 * frame protection, timeouts, interface); one validated record of the loop's config. It builds no ring (RankTask
 * turns it into a RingConfig).
 */
package org.ringtrain.driver.train;

import static org.ringtrain.driver.config.Checks.orEmpty;
import static org.ringtrain.driver.config.Checks.require;

import java.io.Serializable;
import java.util.LinkedHashMap;
import java.util.Map;
import org.ringtrain.sync.LinkTransport;
import org.ringtrain.sync.RingProtection;
import org.ringtrain.sync.WireCodec;

/**
 * @param bucketMb           gradient bucket size for the overlapped all-reduce, MiB (default 4)
 * @param ringCodec          {@code fp32} (default, exact) or {@code bf16} (half the bytes)
 * @param ringTimeoutSeconds ring I/O timeout, must exceed the slowest step and checkpoint (default 300)
 * @param ringBindHost       interface the ring listens on; empty = the executor's address (default)
 * @param ringTransport      {@code auto} (default: Unix domain sockets between ranks on the same host,
 *                           TCP between hosts) or {@code tcp} (always TCP)
 * @param ringSocketDir      directory under which {@code auto} makes each rank's private (0700) socket
 *                           directory; empty = java.io.tmpdir (default)
 * @param ringProtection     what protects gradient frames after the ring's handshake: {@code none}
 *                           (default: right for ranks on one host, or a trusted private network),
 *                           {@code integrity} (an AES-GCM tag on every frame: an altered frame fails
 *                           the step naming the link) or {@code encryption} (AES-GCM over the
 *                           payload as well); use integrity or encryption across hosts on a shared
 *                           network (docs/reliability.md, "Secrets and traffic")
 */
public record RingSettings(int bucketMb, WireCodec ringCodec, int ringTimeoutSeconds, String ringBindHost,
    LinkTransport ringTransport, String ringSocketDir, RingProtection ringProtection) implements Serializable {

  /** Every default, keyed by setting. */
  public static Map<String, Object> defaults() {
    Map<String, Object> d = new LinkedHashMap<>();
    d.put("bucketMb", 4);
    d.put("ringCodec", "fp32");
    d.put("ringTimeoutSeconds", 300);
    d.put("ringBindHost", "");
    d.put("ringTransport", "auto");
    d.put("ringSocketDir", "");
    d.put("ringProtection", "none");
    return d;
  }

  /** Validates every field. */
  public RingSettings {
    require(bucketMb >= 1 && bucketMb <= 1024, "bucketMb", bucketMb, "use 1 to 1024 MiB");
    require(ringCodec != null, "ringCodec", ringCodec, "use fp32 or bf16");
    require(ringTimeoutSeconds >= 1, "ringTimeoutSeconds", ringTimeoutSeconds, "use a positive timeout");
    ringBindHost = orEmpty(ringBindHost);
    require(ringTransport != null, "ringTransport", ringTransport,
        "use auto (Unix sockets between ranks on one host, TCP between hosts) or tcp");
    ringSocketDir = orEmpty(ringSocketDir);
    require(ringSocketDir.isEmpty() || ringSocketDir.startsWith("/"), "ringSocketDir", ringSocketDir,
        "use an absolute local path, or empty for java.io.tmpdir");
    require(ringProtection != null, "ringProtection", ringProtection,
        "use none (one host, trusted network), integrity or encryption (across hosts)");
  }
}
