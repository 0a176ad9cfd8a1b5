// Static checks of ringtrain's container images (k8s/Dockerfile, k8s/Dockerfile.cuda): base
// images of the pom's Spark version, the non-root Spark user, the jar, conf and GPU script at the
// paths the manifests use, and build-context filters that let those files through. Nothing is
// built here (no Docker engine); `docker build` itself is the check that the images build.
package org.ringtrain.jobs.k8s;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.ringtrain.jobs.k8s.Dockerfiles.Instruction;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class DockerfileTest {

  private static List<Instruction> read(String name) throws IOException {
    return Dockerfiles.read(RepoFiles.file("k8s/" + name));
  }

  private static String officialSparkImage() {
    return "apache/spark:" + RepoFiles.pomProperty("spark.version") + "-scala"
        + RepoFiles.pomProperty("scala.binary.version") + "-java17-ubuntu";
  }

  private static List<Instruction> finalStage(List<Instruction> all) {
    int last = all.get(all.size() - 1).stage();
    return all.stream().filter(i -> i.stage() == last).toList();
  }

  private static List<String> args(List<Instruction> instructions, String keyword) {
    return instructions.stream().filter(i -> i.keyword().equals(keyword)).map(Instruction::args).toList();
  }

  @Test
  void cpuImageIsTheOfficialSparkImageOfThePomsSparkVersion() throws IOException {
    List<String> from = args(read("Dockerfile"), "FROM");
    assertEquals(List.of(officialSparkImage()), from);
  }

  @Test
  void cudaImageIsCuda116WithCudnn8AndTheOfficialSparkDistributionOfThePomsVersion() throws IOException {
    List<Instruction> all = read("Dockerfile.cuda");
    List<String> from = args(all, "FROM");
    assertTrue(from.contains(officialSparkImage() + " AS spark"), from.toString());
    assertTrue(from.stream().anyMatch(f -> f.matches("eclipse-temurin:17-jre\\S* AS jre")), "Java 17: " + from);
    String base = from.get(from.size() - 1);
    assertTrue(base.matches("nvidia/cuda:11\\.6\\.\\d+-cudnn8-runtime-ubuntu\\d+\\.\\d+"),
        "nd4j-cuda-11.6 needs the CUDA 11.6 runtime with cuDNN 8: " + base);
    List<String> copies = args(finalStage(all), "COPY");
    assertTrue(copies.contains("--from=spark --chown=spark:spark /opt/spark /opt/spark"), copies.toString());
    assertTrue(copies.contains("--from=spark /opt/entrypoint.sh /opt/decom.sh /opt/"), copies.toString());
    assertTrue(copies.contains("--from=jre /opt/java/openjdk /opt/java/openjdk"), copies.toString());
    assertEquals(List.of("[\"/opt/entrypoint.sh\"]"), args(finalStage(all), "ENTRYPOINT"));
  }

  @ParameterizedTest
  @ValueSource(strings = {"Dockerfile", "Dockerfile.cuda"})
  void runsAsTheNonRootSparkUser(String name) throws IOException {
    List<String> users = args(finalStage(read(name)), "USER");
    assertFalse(users.isEmpty(), name + " sets USER");
    assertEquals(String.valueOf(ImageLayout.SPARK_UID), users.get(users.size() - 1), name + ": last USER");
  }

  @ParameterizedTest
  @ValueSource(strings = {"Dockerfile", "Dockerfile.cuda"})
  void putsTheApplicationJarAndConfWhereTheManifestsLook(String name) throws IOException {
    List<String> copies = args(finalStage(read(name)), "COPY");
    String jar = "jobs/target/ringtrain-jobs-" + RepoFiles.projectVersion() + "-app.jar";
    assertTrue(copies.contains("--chmod=0644 " + jar + " " + ImageLayout.APP_JAR), name + ": " + copies);
    assertTrue(copies.contains("conf/ " + ImageLayout.CONF_DIR), name + ": " + copies);
  }

  @Test
  void copiesTheApplicationJarTheJobsBuildMakes() throws IOException {
    String pom = Files.readString(RepoFiles.file("jobs/pom.xml"));
    assertTrue(pom.contains("<artifactId>ringtrain-jobs</artifactId>"));
    assertTrue(pom.contains("<shadedClassifierName>app</shadedClassifierName>"),
        "jobs/pom.xml attaches the shaded jar as ringtrain-jobs-<version>-app.jar");
  }

  @ParameterizedTest
  @ValueSource(strings = {"Dockerfile", "Dockerfile.cuda"})
  void addsTheS3aConnectorOfTheHadoopVersionSparkShips(String name) throws IOException {
    List<String> declared = args(read(name), "ARG");
    assertTrue(declared.contains("HADOOP_AWS_VERSION=" + RepoFiles.pomProperty("hadoop.version")), declared.toString());
    assertTrue(declared.stream().anyMatch(a -> a.startsWith("AWS_SDK_BUNDLE_VERSION=2.")), declared.toString());
  }

  @Test
  void cudaImageShipsTheGpuDiscoveryScriptTheGpuManifestsName() throws IOException {
    List<String> copies = args(finalStage(read("Dockerfile.cuda")), "COPY");
    assertTrue(copies.contains("--chmod=0755 k8s/getGpusResources.sh " + ImageLayout.GPU_DISCOVERY_SCRIPT),
        copies.toString());
    assertTrue(Files.isExecutable(RepoFiles.file("k8s/getGpusResources.sh")));
  }

  @ParameterizedTest
  @ValueSource(strings = {"Dockerfile", "Dockerfile.cuda"})
  void buildContextFilterLetsThroughEveryFileTheImageCopies(String name) throws IOException {
    List<String> patterns = Files.readAllLines(RepoFiles.file("k8s/" + name + ".dockerignore")).stream()
        .filter(l -> l.startsWith("!")).map(l -> l.substring(1)).toList();
    List<String> sources = read(name).stream().filter(i -> i.keyword().equals("COPY"))
        .map(Instruction::args).filter(a -> !a.startsWith("--from="))
        .map(a -> Stream.of(a.split("\\s+")).filter(w -> !w.startsWith("--")).findFirst().orElseThrow()).toList();
    assertFalse(sources.isEmpty());
    for (String source : sources) {
      String path = source.endsWith("/") ? source.substring(0, source.length() - 1) : source;
      assertTrue(patterns.stream().anyMatch(p -> FileSystems.getDefault().getPathMatcher("glob:" + p)
          .matches(Path.of(path))), name + ".dockerignore does not let " + source + " into the build context");
    }
  }
}
