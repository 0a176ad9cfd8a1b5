/*
 * ServeHandler: the server's one Jetty handler - routes by method and path, checks the API key,
 * times every request into the metrics and turns refusals into JSON errors. The routes themselves
 * live in GenerateRoute and ClassifyRoute; this class loads nothing.
 */
package org.ringtrain.driver.serve;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Routing, authentication, metrics and errors for every request. */
final class ServeHandler extends Handler.Abstract {
  private static final Logger LOG = LoggerFactory.getLogger(ServeHandler.class);

  private final Map<String, ServedGpt> gpts;
  private final Map<String, ServedClassifier> classifiers;
  private final ServeSettings settings;
  private final ServeMetrics metrics;
  private final BooleanSupplier ready;
  private final GenerateRoute generate;
  private final ClassifyRoute classify;
  private final byte[] keyDigest; // SHA-256 of the API key, or null

  ServeHandler(Map<String, ServedGpt> gpts, Map<String, ServedClassifier> classifiers, ServeSettings settings,
      ServeMetrics metrics, BooleanSupplier ready) {
    this.gpts = gpts;
    this.classifiers = classifiers;
    this.settings = settings;
    this.metrics = metrics;
    this.ready = ready;
    this.generate = new GenerateRoute(gpts, settings);
    this.classify = new ClassifyRoute(classifiers, settings);
    this.keyDigest = settings.apiKey() == null ? null : sha256(settings.apiKey());
  }

  @Override
  public boolean handle(Request request, Response response, Callback callback) {
    long start = System.nanoTime();
    String path = Request.getPathInContext(request);
    String method = request.getMethod();
    String route = "other";
    try {
      route = route(method, path, request, response);
      callback.succeeded();
    } catch (ApiError e) {
      route = routeName(path);
      if (e.status >= 500 || e.status == 408 || e.status == 413) {
        // Do not read on after an unread or endless body: the connection closes after this answer.
        response.getHeaders().put(HttpHeader.CONNECTION, "close");
      }
      respondError(response, callback, e);
    } catch (Throwable e) {
      route = routeName(path);
      if (response.isCommitted()) {
        LOG.info("{} {}: the client went away or the stream broke ({})", method, path, e.toString());
        callback.failed(e);
      } else {
        LOG.error("{} {} failed", method, path, e);
        respondError(response, callback, new ApiError(500, "internal", "the server failed: " + e.getMessage()));
      }
    } finally {
      metrics.request(route, response.getStatus(), (System.nanoTime() - start) / 1e9);
    }
    return true;
  }

  private String route(String method, String path, Request request, Response response) throws Exception {
    String name = routeName(path);
    switch (name) {
      case "healthz" -> Responses.json(response, 200, Map.of("status", "ok"));
      case "readyz" -> {
        if (!ready.getAsBoolean()) {
          throw new ApiError(503, "not_ready", "models are still loading; retry shortly");
        }
        Responses.json(response, 200, Map.of("status", "ready"));
      }
      case "openapi" -> Responses.resource(response, "/serve/openapi.json", "application/json");
      case "page" -> Responses.resource(response, "/serve/index.html", "text/html; charset=utf-8");
      case "metrics" -> {
        authorize(request);
        Responses.bytes(response, 200, ServeMetrics.CONTENT_TYPE, metrics.scrape());
      }
      case "models", "generate", "classify" -> {
        authorize(request);
        if (!ready.getAsBoolean()) {
          throw new ApiError(503, "not_ready", "models are still loading; retry shortly", 1);
        }
        String expected = "models".equals(name) ? "GET" : "POST";
        if (!expected.equals(method)) {
          throw new ApiError(405, "method_not_allowed", path + " takes " + expected + ", but found " + method);
        }
        if ("models".equals(name)) {
          List<Object> all = new ArrayList<>();
          gpts.values().forEach(g -> all.add(g.info()));
          classifiers.values().forEach(c -> all.add(c.info()));
          Responses.json(response, 200, Map.of("models", all));
        } else if ("generate".equals(name)) {
          generate.handle(request, response);
        } else {
          classify.handle(request, response);
        }
      }
      default -> throw new ApiError(404, "not_found", "no endpoint " + method + " " + path
          + "; see /openapi.json for the API (POST /v1/generate, POST /v1/classify, GET /v1/models)");
    }
    return name;
  }

  private static String routeName(String path) {
    return switch (path) {
      case "/healthz" -> "healthz";
      case "/readyz" -> "readyz";
      case "/openapi.json" -> "openapi";
      case "/", "/index.html" -> "page";
      case "/metrics" -> "metrics";
      case "/v1/models" -> "models";
      case "/v1/generate" -> "generate";
      case "/v1/classify" -> "classify";
      default -> "other";
    };
  }

  /** 401 unless the request carries the API key; compares SHA-256 digests in constant time. */
  private void authorize(Request request) {
    if (keyDigest == null) {
      return;
    }
    String header = request.getHeaders().get(HttpHeader.AUTHORIZATION);
    String given = header != null && header.startsWith("Bearer ") ? header.substring(7).trim() : "";
    if (!MessageDigest.isEqual(keyDigest, sha256(given))) {
      throw new ApiError(401, "unauthorized", "this server needs an API key: send 'Authorization: Bearer KEY' with"
          + " the key from the server's --api-key-file" + (header == null ? "" : " (the key sent does not match)"));
    }
  }

  private static byte[] sha256(String s) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK lacks SHA-256", e);
    }
  }

  private static void respondError(Response response, Callback callback, ApiError e) {
    try {
      if (response.isCommitted()) {
        callback.failed(e);
        return;
      }
      Responses.error(response, e);
      callback.succeeded();
    } catch (Exception io) {
      callback.failed(io);
    }
  }
}
