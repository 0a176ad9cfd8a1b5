// A Spark standalone cluster for tests: one Master and N Workers, each a separate JVM started
// from the test JVM's own classpath (no Spark distribution needed), all on 127.0.0.1 or each in a
// host of its own (a network namespace of NetnsHosts, see Layout). Workers launch executors as
// their child processes, so a test can find and kill an executor JVM.
// It is not a driver: tests create their SparkContext from driverConf() in the test JVM.
// Spark's own channels run as conf/spark-defaults.conf asks (spark.authenticate,
// spark.network.crypto.enabled): a standalone cluster has one cluster-wide secret, made fresh
// here for each cluster and given to the Master and Workers in a private (0600) properties file,
// never on a command line; Workers hand it to executors in their environment, as Spark does.
package org.ringtrain.jobs.cluster;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;
import org.apache.spark.SparkConf;
import org.apache.spark.launcher.JavaModuleOptions;
import org.ringtrain.sync.netns.NetnsHosts;

/**
 * Master + Workers as child processes. Everything they write (logs, work dirs, temp files) stays
 * under the directory given to {@link #start}; {@link #close} kills every process they started,
 * executors included, even when a test failed half way.
 */
final class StandaloneCluster implements AutoCloseable {
  private static final String LOOPBACK = "127.0.0.1";

  /**
   * Where each JVM runs and which address it binds: node 0 is the Master, node i the i-th Worker
   * (and its executors); {@code wrap} turns a node's command into one that runs on its host.
   */
  record Layout(String driverHost, List<String> nodeHosts, BiFunction<Integer, List<String>, List<String>> wrap) {
    /** Every JVM on this machine's loopback. */
    static Layout loopback(int workers) {
      return new Layout(LOOPBACK, java.util.Collections.nCopies(workers + 1, LOOPBACK), (node, command) -> command);
    }

    /** The Master in host 0, Worker i in host i; the driver (this JVM) on the hosts' bridge. */
    static Layout hosts(NetnsHosts hosts) {
      List<String> addresses = new ArrayList<>();
      for (int h = 0; h < hosts.size(); h++) {
        addresses.add(hosts.address(h));
      }
      return new Layout(hosts.rootAddress(), addresses, hosts::inHost);
    }
  }

  private final Path dir;
  private final Layout layout;
  private final String classpath;
  private final int masterPort;
  /** The cluster-wide spark.authenticate.secret: 32 random bytes, hex. Never logged. */
  private final String authSecret;
  private final List<Process> processes = new ArrayList<>(); // master first, then the workers
  private final List<Process> workers = new ArrayList<>();

  private StandaloneCluster(Path dir, Layout layout, String classpath, int masterPort) {
    this.dir = dir;
    this.layout = layout;
    this.classpath = classpath;
    this.masterPort = masterPort;
    byte[] secret = new byte[32];
    new SecureRandom().nextBytes(secret);
    this.authSecret = HexFormat.of().formatHex(secret);
  }

  /**
   * Starts a Master and {@code workers} Workers of {@code coresPerWorker} cores and
   * {@code memoryPerWorker} (e.g. "1536m") each, and waits until the Master accepts connections.
   * Workers register with it in the background; wait for executors on the driver side.
   */
  static StandaloneCluster start(Path dir, int workers, int coresPerWorker, String memoryPerWorker,
      Duration timeout) throws IOException, InterruptedException {
    return start(dir, Layout.loopback(workers), coresPerWorker, memoryPerWorker, timeout);
  }

  /** {@link #start(Path, int, int, String, Duration)} with one Worker per node of {@code layout} after the Master. */
  static StandaloneCluster start(Path dir, Layout layout, int coresPerWorker, String memoryPerWorker,
      Duration timeout) throws IOException, InterruptedException {
    int workers = layout.nodeHosts().size() - 1;
    String classpath = System.getProperty("java.class.path");
    if (classpath.split(java.io.File.pathSeparator).length < 10) {
      throw new IllegalStateException("java.class.path holds only " + classpath + "; the cluster JVMs need the real "
          + "test classpath: run surefire with <useManifestOnlyJar>false</useManifestOnlyJar>");
    }
    Files.createDirectories(dir);
    // The Worker builds executor commands from SPARK_HOME/jars; an empty one is enough because
    // executors get the real classpath from spark.executor.extraClassPath (driverConf).
    Files.createDirectories(dir.resolve("spark-home/jars"));
    StandaloneCluster cluster = new StandaloneCluster(dir, layout, classpath, freePort());
    String auth = cluster.writeAuthProperties().toString();
    try {
      cluster.launch(0, "master", "org.apache.spark.deploy.master.Master",
          "--host", layout.nodeHosts().get(0), "--port", Integer.toString(cluster.masterPort), "--webui-port", "0",
          "--properties-file", auth);
      cluster.awaitMaster(timeout);
      for (int i = 1; i <= workers; i++) {
        Path workDir = Files.createDirectories(dir.resolve("worker-" + i + "/work"));
        cluster.workers.add(cluster.launch(i, "worker-" + i, "org.apache.spark.deploy.worker.Worker",
            "--host", layout.nodeHosts().get(i), "--cores", Integer.toString(coresPerWorker), "--memory", memoryPerWorker,
            "--webui-port", "0", "--work-dir", workDir.toString(), "--properties-file", auth, cluster.masterUrl()));
      }
      return cluster;
    } catch (IOException | InterruptedException | RuntimeException e) {
      cluster.close();
      throw e;
    }
  }

  /** spark://MASTER_HOST:port */
  String masterUrl() {
    return "spark://" + layout.nodeHosts().get(0) + ":" + masterPort;
  }

  /**
   * Settings a driver in this JVM needs to run on the cluster: the master, loopback addresses,
   * the test classpath and a private temp dir for executors, one core and {@code executorMemory}
   * each, and Spark's authentication and encryption with the cluster's secret. Everything else
   * (serializer, retries) is the caller's.
   */
  SparkConf driverConf(String appName, String executorMemory) {
    SparkConf conf = new SparkConf(false).setMaster(masterUrl()).setAppName(appName);
    settings(executorMemory).forEach(conf::set);
    return conf;
  }

  /** The settings of {@link #driverConf} as key/value pairs (e.g. for system properties, as spark-submit sets them). */
  Map<String, String> settings(String executorMemory) {
    Path executorTmp = dir.resolve("executor-tmp");
    Path localDir = dir.resolve("local-dir");
    try {
      Files.createDirectories(executorTmp);
      Files.createDirectories(localDir);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    Map<String, String> settings = new LinkedHashMap<>();
    settings.put("spark.master", masterUrl());
    settings.put("spark.driver.host", layout.driverHost());
    settings.put("spark.driver.bindAddress", layout.driverHost());
    settings.put("spark.executor.extraClassPath", classpath);
    settings.put("spark.executor.extraJavaOptions", "-Djava.io.tmpdir=" + executorTmp);
    settings.put("spark.local.dir", localDir.toString());
    settings.put("spark.executor.cores", "1");
    settings.put("spark.executor.memory", executorMemory);
    settings.put("spark.executor.memoryOverhead", "384m");
    settings.put("spark.ui.enabled", "false");
    settings.putAll(authSettings());
    settings.put("spark.io.encryption.enabled", "true");
    return settings;
  }

  /** The secret every JVM of this cluster shares (tests check that it appears in no log). */
  String authSecret() {
    return authSecret;
  }

  /** Spark's authentication and RPC encryption with this cluster's secret: what Master, Workers and driver share. */
  private Map<String, String> authSettings() {
    return Map.of("spark.authenticate", "true", "spark.authenticate.secret", authSecret,
        "spark.network.crypto.enabled", "true");
  }

  /** Writes {@link #authSettings} to a properties file only this user can read, for the Master and Workers. */
  private Path writeAuthProperties() throws IOException {
    Path file = dir.resolve("spark-auth.properties");
    Files.deleteIfExists(file);
    Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    StringBuilder text = new StringBuilder("# written by StandaloneCluster for this cluster only\n");
    authSettings().forEach((k, v) -> text.append(k).append(' ').append(v).append('\n'));
    // The Master's REST submission server refuses to start with spark.authenticate on.
    text.append("spark.master.rest.enabled false\n");
    Files.writeString(file, text);
    return file;
  }

  /** The executor JVMs alive now, per worker (index 0 = the first worker): the Workers' children. */
  List<List<ProcessHandle>> executors() {
    List<List<ProcessHandle>> out = new ArrayList<>();
    for (Process worker : workers) {
      out.add(worker.toHandle().children().filter(ProcessHandle::isAlive).toList());
    }
    return out;
  }

  /** The Worker processes, in start order. */
  List<Process> workers() {
    return List.copyOf(workers);
  }

  /** Where the cluster's logs are (for failure messages). */
  Path dir() {
    return dir;
  }

  /** Kills every process the cluster started and their descendants (executors); never throws. */
  @Override
  public void close() {
    List<ProcessHandle> all = new ArrayList<>();
    for (int i = processes.size() - 1; i >= 0; i--) { // workers (and their executors) before the master
      ProcessHandle p = processes.get(i).toHandle();
      p.descendants().forEach(all::add);
      all.add(p);
    }
    all.forEach(ProcessHandle::destroyForcibly);
    for (ProcessHandle p : all) {
      try {
        p.onExit().get(30, java.util.concurrent.TimeUnit.SECONDS);
      } catch (Exception e) {
        System.err.println("StandaloneCluster: process " + p.pid() + " did not exit: " + e);
      }
    }
  }

  private Process launch(int node, String name, String mainClass, String... args) throws IOException {
    Path tmp = Files.createDirectories(dir.resolve(name + "-tmp"));
    List<String> command = new ArrayList<>();
    command.add(ProcessHandle.current().info().command().orElse(
        Path.of(System.getProperty("java.home"), "bin", "java").toString()));
    command.addAll(Arrays.asList(JavaModuleOptions.defaultModuleOptionArray()));
    command.addAll(List.of("-Xmx256m", "-Djava.io.tmpdir=" + tmp, "-cp", classpath, mainClass));
    command.addAll(Arrays.asList(args));
    ProcessBuilder pb = new ProcessBuilder(layout.wrap().apply(node, command)).redirectErrorStream(true)
        .redirectOutput(dir.resolve(name + ".log").toFile());
    pb.environment().put("SPARK_HOME", dir.resolve("spark-home").toString());
    pb.environment().put("SPARK_SCALA_VERSION", "2.13");
    pb.environment().put("SPARK_LOCAL_IP", layout.nodeHosts().get(node));
    Process process = pb.start();
    processes.add(process);
    return process;
  }

  private void awaitMaster(Duration timeout) throws IOException, InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    Process master = processes.get(0);
    while (true) {
      try (Socket s = new Socket()) {
        s.connect(new InetSocketAddress(layout.nodeHosts().get(0), masterPort), 1000);
        return;
      } catch (IOException notYet) {
        if (!master.isAlive()) {
          throw new IllegalStateException("the Spark Master exited with status " + master.exitValue() + "; see "
              + dir.resolve("master.log"));
        }
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("the Spark Master did not accept connections on port " + masterPort
              + " within " + timeout + "; see " + dir.resolve("master.log"));
        }
        Thread.sleep(200);
      }
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getByName(LOOPBACK))) {
      return s.getLocalPort();
    }
  }
}
