// The frame-protection rows of the ring benchmark (bench/ring.sh
// --protection-mib): the same all-reduce with RingConfig.protection NONE,
// INTEGRITY and ENCRYPTION, measured one after the other in the same run so
// that the ratios hold on a shared machine, as a markdown table. It only
// formats; RingBench measures.
package org.ringtrain.bench.ring;

import java.util.List;
import org.ringtrain.sync.LinkTransport;
import org.ringtrain.sync.RingProtection;

/** Markdown for the protection rows; see the file comment. */
final class ProtectionTable {
  /** The modes each row measures, in column order. */
  static final RingProtection[] MODES = RingProtection.values();

  /** One size at one world size and transport: the median ms of each mode, in {@link #MODES} order. */
  record Row(int worldSize, int mib, LinkTransport transport, String links, double[] ms) {
    double busbw(int mode) {
      return Timing.gbPerSecond((long) mib << 20, ms[mode]) * 2.0 * (worldSize - 1) / worldSize;
    }
  }

  private ProtectionTable() {
  }

  /** A "### Frame protection" subsection, or "" without rows. */
  static String markdown(List<Row> rows) {
    if (rows.isEmpty()) {
      return "";
    }
    StringBuilder md = new StringBuilder("### Frame protection (`ringProtection`)\n\n");
    md.append("The same all-reduce (SUM, float32) with `RingConfig.protection` none, integrity (an AES-256-GCM "
        + "tag over every frame's header and payload) and encryption (AES-256-GCM over the payload), one ring "
        + "per mode, one after the other in this run; ratios are to none's time of the same row.\n\n");
    md.append("| N | MiB | links | none ms | integrity ms | encryption ms | integrity/none | encryption/none "
        + "| busbw GB/s none / integrity / encryption |\n");
    md.append("|---|---|---|---|---|---|---|---|---|\n");
    for (Row r : rows) {
      md.append("| ").append(r.worldSize()).append(" | ").append(r.mib()).append(" | ").append(r.links())
          .append(" (").append(r.transport()).append(") | ").append(BenchReport.fmt(r.ms()[0], 1))
          .append(" | ").append(BenchReport.fmt(r.ms()[1], 1)).append(" | ").append(BenchReport.fmt(r.ms()[2], 1))
          .append(" | ").append(BenchReport.fmt(r.ms()[1] / r.ms()[0], 2)).append("x | ")
          .append(BenchReport.fmt(r.ms()[2] / r.ms()[0], 2)).append("x | ")
          .append(BenchReport.fmt(r.busbw(0), 2)).append(" / ").append(BenchReport.fmt(r.busbw(1), 2))
          .append(" / ").append(BenchReport.fmt(r.busbw(2), 2)).append(" |\n");
    }
    return md.append('\n').toString();
  }
}
