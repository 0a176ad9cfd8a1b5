// Runs k8s/getGpusResources.sh (the CUDA image's GPU discovery script) against a stand-in
// nvidia-smi and checks it prints the JSON Spark's resource scheduling reads, and fails clearly
// when no GPU is visible. Needs bash; real GPUs are not involved.
package org.ringtrain.jobs.k8s;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class GpuDiscoveryScriptTest {
  private static final Path BASH = Path.of("/bin/bash");

  @TempDir
  Path bin;

  private record Result(int status, String out, String err) {
  }

  /** Runs the script with PATH = a directory whose nvidia-smi prints {@code nvidiaSmiOutput}. */
  private Result run(String nvidiaSmiOutput, boolean withNvidiaSmi) throws Exception {
    assumeTrue(Files.isExecutable(BASH), "bash is needed to run the discovery script");
    if (withNvidiaSmi) {
      Path fake = bin.resolve("nvidia-smi");
      Files.writeString(fake, "#!/bin/bash\nprintf '%s' '" + nvidiaSmiOutput + "'\n");
      Files.setPosixFilePermissions(fake, PosixFilePermissions.fromString("rwxr-xr-x"));
    }
    ProcessBuilder pb = new ProcessBuilder(BASH.toString(), RepoFiles.file("k8s/getGpusResources.sh").toString());
    pb.environment().put("PATH", bin + ":/usr/bin:/bin");
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(20, TimeUnit.SECONDS));
    return new Result(p.exitValue(), out, err);
  }

  @Test
  void printsSparksResourceJsonWithTheIndexOfEveryVisibleGpu() throws Exception {
    Result r = run("0\n1\n3\n", true);
    assertEquals(0, r.status(), r.err());
    JsonNode json = new ObjectMapper().readTree(r.out());
    assertEquals("gpu", json.path("name").asText());
    assertEquals(List.of("0", "1", "3"), List.of(json.path("addresses").get(0).asText(),
        json.path("addresses").get(1).asText(), json.path("addresses").get(2).asText()));
    assertEquals(3, json.path("addresses").size());
  }

  @Test
  void failsWithAReasonWhenNoGpuIsVisible() throws Exception {
    Result r = run("", true);
    assertNotEquals(0, r.status());
    assertTrue(r.err().contains("no GPU"), r.err());
  }

  @Test
  void failsWithAHintWhenNvidiaSmiIsMissing() throws Exception {
    assumeTrue(!Files.exists(Path.of("/usr/bin/nvidia-smi")) && !Files.exists(Path.of("/bin/nvidia-smi")),
        "a real nvidia-smi is installed");
    Result r = run("", false);
    assertNotEquals(0, r.status());
    assertTrue(r.err().contains("nvidia-smi not found"), r.err());
  }

  @Test
  void rejectsOutputThatIsNotAGpuIndex() throws Exception {
    Result r = run("No devices were found\n", true);
    assertNotEquals(0, r.status());
    assertTrue(r.err().contains("where a GPU index was expected"), r.err());
  }
}
