// The Spark operator's SparkApplication CRD schema (k8s/crd/), made strict and turned into a
// plain JSON Schema so that a JSON-schema library can check manifests the way the Kubernetes API
// server would, and stricter: the API server silently prunes unknown fields, this rejects them.
// It is a test helper, not a Kubernetes client: no cluster, no admission webhooks, no defaulting.
package org.ringtrain.jobs.k8s;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SchemaValidatorsConfig;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Validates {@code SparkApplication} manifests against the vendored CRD's
 * {@code spec.versions[name=v1beta2].schema.openAPIV3Schema}, rewritten as follows.
 *
 * <ul>
 *   <li>Every object schema without {@code additionalProperties} gets {@code additionalProperties:
 *       false}, so unknown (for example misspelt) fields are errors; objects marked
 *       {@code x-kubernetes-preserve-unknown-fields} (the pod {@code template}) keep accepting
 *       anything, as the API server does.</li>
 *   <li>{@code x-kubernetes-int-or-string} becomes {@code anyOf: [integer, string]};
 *       {@code nullable: true} adds {@code "null"} to the type; {@code format: int32} becomes the
 *       int32 range. Other formats and {@code x-kubernetes-*} list/map hints are dropped: they
 *       describe merging, not validity.</li>
 *   <li>{@code apiVersion} and {@code kind} must be this CRD's; {@code metadata} (free-form in
 *       the CRD, because the API server validates it as ObjectMeta) is checked for the fields a
 *       manifest author writes; {@code status} is refused (the controller owns it).</li>
 * </ul>
 */
public final class SparkApplicationSchema {
  /** The CRD version ringtrain's manifests are written against. */
  public static final String VERSION = "v1beta2";

  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory())
      .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
  private static final String DNS_SUBDOMAIN =
      "^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$";

  private final JsonSchema schema;
  private final ObjectNode jsonSchema;

  private SparkApplicationSchema(ObjectNode jsonSchema) {
    this.jsonSchema = jsonSchema;
    SchemaValidatorsConfig config = SchemaValidatorsConfig.builder().formatAssertionsEnabled(false).build();
    this.schema = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V7).getSchema(jsonSchema, config);
  }

  /** Loads the CRD YAML (a CustomResourceDefinition of kind SparkApplication) and makes it strict. */
  public static SparkApplicationSchema load(Path crdYaml) throws IOException {
    JsonNode crd = readYaml(crdYaml);
    String group = crd.path("spec").path("group").asText();
    String kind = crd.path("spec").path("names").path("kind").asText();
    if (!"CustomResourceDefinition".equals(crd.path("kind").asText()) || !"SparkApplication".equals(kind)) {
      throw new IllegalArgumentException(crdYaml + " should be the SparkApplication CustomResourceDefinition but "
          + "is kind=" + crd.path("kind").asText() + " names.kind=" + kind);
    }
    for (JsonNode version : crd.path("spec").path("versions")) {
      if (VERSION.equals(version.path("name").asText())) {
        ObjectNode openApi = (ObjectNode) version.path("schema").path("openAPIV3Schema");
        return new SparkApplicationSchema(strictRoot(openApi, group + "/" + VERSION, kind));
      }
    }
    throw new IllegalArgumentException(crdYaml + " has no version " + VERSION + "; vendor a CRD release that "
        + "serves it (see k8s/crd/README.md)");
  }

  /** Reads one YAML document; duplicate keys and multi-document files are errors. */
  public static JsonNode readYaml(Path file) throws IOException {
    try (Reader in = Files.newBufferedReader(file);
         MappingIterator<JsonNode> docs = YAML.readerFor(JsonNode.class).readValues(in)) {
      List<JsonNode> all = docs.readAll();
      if (all.size() != 1) {
        throw new IOException(file + " holds " + all.size() + " YAML documents; expected exactly one");
      }
      return all.get(0);
    }
  }

  /** The errors of one manifest, each with its JSON pointer ("/spec/executor/gpu: ..."); empty when valid. */
  public List<String> validate(JsonNode manifest) {
    List<String> errors = new ArrayList<>();
    for (ValidationMessage m : schema.validate(manifest)) {
      errors.add(m.getMessage());
    }
    errors.sort(null);
    return errors;
  }

  /** The strict JSON Schema the manifests are checked against (for inspection in tests). */
  public JsonNode jsonSchema() {
    return jsonSchema;
  }

  private static ObjectNode strictRoot(ObjectNode openApi, String apiVersion, String kind) {
    ObjectNode root = strict(openApi);
    ObjectNode props = (ObjectNode) root.get("properties");
    props.set("apiVersion", NODES.objectNode().put("const", apiVersion));
    props.set("kind", NODES.objectNode().put("const", kind));
    props.set("metadata", objectMeta());
    props.remove("status");
    ArrayNode required = NODES.arrayNode().add("apiVersion").add("kind").add("metadata").add("spec");
    root.set("required", required);
    root.put("additionalProperties", false);
    return root;
  }

  /** The ObjectMeta fields a manifest author sets; the API server fills in the rest. */
  private static ObjectNode objectMeta() {
    ObjectNode stringMap = NODES.objectNode().put("type", "object");
    stringMap.set("additionalProperties", NODES.objectNode().put("type", "string"));
    ObjectNode props = NODES.objectNode();
    props.set("name", NODES.objectNode().put("type", "string").put("maxLength", 253).put("pattern", DNS_SUBDOMAIN));
    props.set("namespace", NODES.objectNode().put("type", "string").put("maxLength", 63));
    props.set("labels", stringMap);
    props.set("annotations", stringMap.deepCopy());
    ObjectNode meta = NODES.objectNode().put("type", "object");
    meta.set("properties", props);
    meta.set("required", NODES.arrayNode().add("name"));
    meta.put("additionalProperties", false);
    return meta;
  }

  /** A copy of one Kubernetes structural schema node, rewritten as described on the class. */
  static ObjectNode strict(JsonNode k8s) {
    ObjectNode out = NODES.objectNode();
    Iterator<Map.Entry<String, JsonNode>> fields = k8s.fields();
    while (fields.hasNext()) {
      Map.Entry<String, JsonNode> f = fields.next();
      String key = f.getKey();
      JsonNode value = f.getValue();
      switch (key) {
        case "properties" -> {
          ObjectNode props = NODES.objectNode();
          value.fields().forEachRemaining(p -> props.set(p.getKey(), strict(p.getValue())));
          out.set(key, props);
        }
        case "items", "not" -> out.set(key, strict(value));
        case "additionalProperties" -> out.set(key, value.isObject() ? strict(value) : value);
        case "anyOf", "allOf", "oneOf" -> {
          ArrayNode alternatives = NODES.arrayNode();
          value.forEach(v -> alternatives.add(strict(v)));
          out.set(key, alternatives);
        }
        // Documentation, merge hints and formats the rewrite below replaces or that do not
        // constrain validity.
        case "description", "nullable", "format", "example", "externalDocs" -> { }
        default -> {
          if (!key.startsWith("x-kubernetes-")) {
            out.set(key, value.deepCopy());
          }
        }
      }
    }
    if ("int32".equals(k8s.path("format").asText())) {
      if (!out.has("minimum")) {
        out.put("minimum", Integer.MIN_VALUE);
      }
      if (!out.has("maximum")) {
        out.put("maximum", Integer.MAX_VALUE);
      }
    }
    if (k8s.path("x-kubernetes-int-or-string").asBoolean(false)) {
      out.remove("type");
      if (!out.has("anyOf")) {
        out.set("anyOf", NODES.arrayNode()
            .add(NODES.objectNode().put("type", "integer"))
            .add(NODES.objectNode().put("type", "string")));
      }
    }
    if (k8s.path("nullable").asBoolean(false) && out.path("type").isTextual()) {
      out.set("type", NODES.arrayNode().add(out.path("type").asText()).add("null"));
    }
    boolean isObject = "object".equals(k8s.path("type").asText()) || k8s.has("properties");
    boolean preserveUnknown = k8s.path("x-kubernetes-preserve-unknown-fields").asBoolean(false);
    if (isObject && !preserveUnknown && !out.has("additionalProperties")) {
      // The API server would prune these fields without a word; a manifest that has them is wrong.
      out.put("additionalProperties", false);
    }
    return out;
  }
}
