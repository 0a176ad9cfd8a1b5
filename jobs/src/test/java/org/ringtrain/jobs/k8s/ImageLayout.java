// Where ringtrain's container images (k8s/Dockerfile, k8s/Dockerfile.cuda) put things, as the
// SparkApplication manifests and the spark-submit example refer to them. One place for the
// contract that DockerfileTest checks on the images' side and the manifest tests on the other.
package org.ringtrain.jobs.k8s;

/** Paths and the user inside ringtrain's images. */
public final class ImageLayout {
  /** The application jar, on Spark's classpath: mainApplicationFile local:///opt/spark/jars/ringtrain-app.jar. */
  public static final String APP_JAR = "/opt/spark/jars/ringtrain-app.jar";
  /** The repository's conf/ directory (job configs, spark-defaults.conf, log4j2.properties). */
  public static final String CONF_DIR = "/opt/spark/conf-ringtrain/";
  /** The GPU discovery script in the CUDA image (spark.executor.resource.gpu.discoveryScript). */
  public static final String GPU_DISCOVERY_SCRIPT = "/opt/spark/scripts/getGpusResources.sh";
  /** The official Spark image's non-root user, which both images run as. */
  public static final int SPARK_UID = 185;

  private ImageLayout() {
  }
}
