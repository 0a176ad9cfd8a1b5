// k8s/serve/serve.yaml (Deployment + Service for `ringtrain serve`) checked as the cluster and the
// command would see it: the container's arguments parse with the real CLI into a server that binds
// beyond loopback on the probed port, probes hit /healthz and /readyz, the Service reaches the pods,
// the API key comes from a mounted Secret, and SIGTERM's grace covers the server's. It applies
// nothing to a cluster.
package org.ringtrain.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.ringtrain.jobs.k8s.ImageLayout;
import org.ringtrain.jobs.k8s.RepoFiles;
import picocli.CommandLine;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class ServeManifestTest {
  /** Container fields this manifest may use; anything else is a typo the API server would prune. */
  private static final Set<String> CONTAINER_FIELDS = Set.of("name", "image", "imagePullPolicy", "command", "args",
      "env", "ports", "startupProbe", "livenessProbe", "readinessProbe", "resources", "volumeMounts");

  private static JsonNode deployment;
  private static JsonNode service;

  @BeforeAll
  static void read() throws IOException {
    ObjectMapper yaml = new ObjectMapper(new YAMLFactory());
    List<JsonNode> docs = new ArrayList<>();
    try (MappingIterator<JsonNode> it = yaml.readerFor(JsonNode.class)
        .readValues(RepoFiles.file("k8s/serve/serve.yaml").toFile())) {
      it.forEachRemaining(docs::add);
    }
    assertEquals(2, docs.size(), "serve.yaml holds a Deployment and a Service");
    deployment = docs.get(0);
    service = docs.get(1);
    assertEquals("apps/v1", deployment.path("apiVersion").asText());
    assertEquals("Deployment", deployment.path("kind").asText());
    assertEquals("v1", service.path("apiVersion").asText());
    assertEquals("Service", service.path("kind").asText());
  }

  private static JsonNode container() {
    JsonNode containers = deployment.path("spec").path("template").path("spec").path("containers");
    assertEquals(1, containers.size());
    return containers.get(0);
  }

  private static ServeCommand parsedServe() {
    List<String> command = new ArrayList<>();
    container().path("command").forEach(n -> command.add(n.asText()));
    assertEquals(List.of("java", "-Xmx3g", "-cp", "/opt/spark/jars/*", RingtrainCli.class.getName()), command);
    assertTrue(ImageLayout.APP_JAR.startsWith("/opt/spark/jars/"), "the classpath must hold the application jar");
    List<String> args = new ArrayList<>();
    container().path("args").forEach(n -> args.add(n.asText()));
    CommandLine.ParseResult parsed = new CommandLine(new RingtrainCli()).parseArgs(args.toArray(String[]::new));
    CommandLine.ParseResult sub = parsed.subcommand();
    assertEquals("serve", sub.commandSpec().name());
    return (ServeCommand) sub.commandSpec().userObject();
  }

  @Test
  void theArgumentsParseIntoAServerReachableFromOutsideThePod() {
    ServeCommand serve = parsedServe();
    assertEquals("0.0.0.0", serve.host, "a pod's server must bind beyond loopback for the Service to reach it");
    JsonNode port = container().path("ports").get(0);
    assertEquals("http", port.path("name").asText());
    assertEquals(serve.port, port.path("containerPort").asInt(), "--port must be the container's http port");
    assertEquals(Map.of("gpt", "/data/runs/moby1"), ServeCommand.named(serve.checkpointDirs, "--checkpoint-dir", "gpt"));
    assertEquals(Map.of("sentiment", "/data/models/sentiment"), ServeCommand.named(serve.modelDirs, "--model-dir", null));
    for (Iterator<String> it = container().fieldNames(); it.hasNext(); ) {
      String field = it.next();
      assertTrue(CONTAINER_FIELDS.contains(field), "unknown container field " + field);
    }
  }

  @Test
  void probesHitHealthAndReadinessOnTheServedPort() {
    assertEquals("/healthz", container().path("livenessProbe").path("httpGet").path("path").asText());
    assertEquals("/healthz", container().path("startupProbe").path("httpGet").path("path").asText());
    assertEquals("/readyz", container().path("readinessProbe").path("httpGet").path("path").asText());
    for (String probe : List.of("livenessProbe", "readinessProbe", "startupProbe")) {
      assertEquals("http", container().path(probe).path("httpGet").path("port").asText(), probe + " port");
    }
  }

  @Test
  void theServiceSelectsThePodsAndTargetsTheirPort() {
    JsonNode labels = deployment.path("spec").path("template").path("metadata").path("labels");
    service.path("spec").path("selector").fields().forEachRemaining(e ->
        assertEquals(e.getValue().asText(), labels.path(e.getKey()).asText(), "selector " + e.getKey()));
    assertEquals(deployment.path("spec").path("selector").path("matchLabels"), service.path("spec").path("selector"));
    assertEquals("http", service.path("spec").path("ports").get(0).path("targetPort").asText());
  }

  @Test
  void theApiKeyComesFromASecretAndShutdownFitsTheGracePeriod() {
    ServeCommand serve = parsedServe();
    String keyFile = serve.apiKeyFile.toString();
    JsonNode podSpec = deployment.path("spec").path("template").path("spec");
    String secretVolume = null;
    for (JsonNode v : podSpec.path("volumes")) {
      if (v.has("secret")) {
        secretVolume = v.path("name").asText();
      }
    }
    boolean mounted = false;
    for (JsonNode m : container().path("volumeMounts")) {
      mounted |= m.path("name").asText().equals(secretVolume) && keyFile.startsWith(m.path("mountPath").asText() + "/");
    }
    assertTrue(mounted, "--api-key-file " + keyFile + " must lie in a mounted Secret volume");
    long graceMs = podSpec.path("terminationGracePeriodSeconds").asLong() * 1000;
    assertTrue(serve.shutdownGraceMs < graceMs, "--shutdown-grace-ms " + serve.shutdownGraceMs
        + " must end before Kubernetes kills the pod after " + graceMs + " ms");
    assertTrue(podSpec.path("securityContext").path("runAsNonRoot").asBoolean());
    assertEquals(ImageLayout.SPARK_UID, podSpec.path("securityContext").path("runAsUser").asInt());
  }
}
