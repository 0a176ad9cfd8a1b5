// A real HDFS for tests: a MiniDFSCluster (one NameNode, one DataNode) inside the test JVM,
// reachable from other JVMs (executors) at hdfs://127.0.0.1:<port>. It uses the shaded
// hadoop-client-minicluster, which lives beside Spark's shaded Hadoop client. It is not a
// multi-node HDFS: replication is 1, so clients must say dfs.replication=1 (see hadoopSettings).
package org.ringtrain.jobs.cluster;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.hdfs.MiniDFSCluster;
import org.ringtrain.driver.fs.HadoopSettings;

/** One NameNode and one DataNode on loopback, with their storage under a given directory. */
final class HdfsCluster implements AutoCloseable {
  private final MiniDFSCluster cluster;
  private final String uri;

  private HdfsCluster(MiniDFSCluster cluster) {
    this.cluster = cluster;
    this.uri = "hdfs://127.0.0.1:" + cluster.getNameNodePort();
  }

  /** Starts the cluster with its storage under {@code dir} and waits until it is active. */
  static HdfsCluster start(Path dir) throws IOException {
    Files.createDirectories(dir);
    Configuration conf = new Configuration();
    conf.set("dfs.replication", "1");
    conf.set("dfs.namenode.rpc-address", "127.0.0.1:0");
    MiniDFSCluster cluster = new MiniDFSCluster.Builder(conf, dir.toFile()).nameNodePort(0).numDataNodes(1)
        .build();
    try {
      cluster.waitActive();
      return new HdfsCluster(cluster);
    } catch (IOException | RuntimeException e) {
      cluster.shutdown(true);
      throw e;
    }
  }

  /** hdfs://127.0.0.1:port, without a trailing slash. */
  String uri() {
    return uri;
  }

  /** {@code uri() + path}, for a path starting with '/'. */
  String path(String absolute) {
    return uri + absolute;
  }

  /** Hadoop settings every client of this cluster needs (a single DataNode holds one replica). */
  HadoopSettings hadoopSettings() {
    return HadoopSettings.of(Map.of("dfs.replication", "1"));
  }

  /** A client of this cluster (cached by the MiniDFSCluster; do not close it). */
  FileSystem fileSystem() throws IOException {
    return cluster.getFileSystem();
  }

  /** Stops the NameNode and DataNode and deletes their storage; never throws. */
  @Override
  public void close() {
    try {
      cluster.shutdown(true);
    } catch (RuntimeException e) {
      System.err.println("HdfsCluster: shutdown failed: " + e);
    }
  }
}
