/*
 * ServePageBrowserTest: the page at "/" in a real headless Chromium (Debian's chromium and
 * chromium-driver packages, driven through Selenium) against a real server on an ephemeral port
 * serving two tiny GPTs and a tiny classifier - choose a model, type, submit, and see the streamed
 * text equal /v1/generate's at the same seed, the label, probabilities and highlighted words equal
 * /v1/classify's, and a refused request's message. Each result is kept as a screenshot under
 * driver/target/screenshots/. It does not test the API itself (GenerateRouteTest,
 * ClassifyRouteTest) and skips, saying what to install, where the browser is absent.
 */
package org.ringtrain.driver.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.WebDriverWait;
import org.ringtrain.driver.fs.HadoopSettings;

@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ServePageBrowserTest {
  /** Debian's paths; named explicitly so Selenium Manager never looks for (or downloads) a browser. */
  static final Path CHROMIUM = Path.of("/usr/bin/chromium");
  static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
  /** The test artifact: one screenshot per result, relative to the module (surefire's working directory). */
  static final Path SCREENSHOTS = Path.of("target", "screenshots");

  @TempDir
  static Path tmp;
  private static ModelServer server;
  private static ServeFixtures.Client client;
  private static ChromeDriver browser;

  @BeforeAll
  static void start() throws Exception {
    assumeTrue(Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER), "the page test needs Debian's"
        + " Chromium and its driver at " + CHROMIUM + " and " + CHROMEDRIVER + ", but found none; install them"
        + " with: apt-get install -y chromium chromium-driver (.ci/run does so when it runs as root)");
    // The browser starts while the models are made: on 2 cores that hides most of its start-up.
    CompletableFuture<ChromeDriver> starting = CompletableFuture.supplyAsync(ServePageBrowserTest::startBrowser);
    try {
      ServeFixtures.writeGpt(tmp.resolve("tiny"), 5);
      ServeFixtures.writeGpt(tmp.resolve("other"), 6);
      String sentiment = ServeFixtures.sentimentClassifier().dir();
      Map<String, String> gpts = new LinkedHashMap<>();
      gpts.put("tiny", tmp.resolve("tiny").toString());
      gpts.put("other", tmp.resolve("other").toString());
      server = ModelServer.start(ServeSettings.defaults().withAddress("127.0.0.1", 0), gpts, Map.of(),
          Map.of("sentiment", sentiment), HadoopSettings.defaults());
      client = new ServeFixtures.Client(server);
    } catch (Exception | Error e) {
      starting.thenAccept(ChromeDriver::quit); // no browser process outlives a failed start
      throw e;
    }
    browser = starting.get(60, TimeUnit.SECONDS);
    Files.createDirectories(SCREENSHOTS);
  }

  private static ChromeDriver startBrowser() {
    ChromeOptions options = new ChromeOptions();
    options.setBinary(CHROMIUM.toFile());
    // --no-sandbox: Chromium refuses to start as root (as CI runs) with its sandbox on; the browser
    // opens only this test's loopback page.
    options.addArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
        "--window-size=1000,1000", "--lang=en-US");
    ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(CHROMEDRIVER.toFile())
        .usingAnyFreePort().build();
    return new ChromeDriver(service, options);
  }

  @AfterAll
  static void stop() throws Exception {
    try {
      if (browser != null) {
        browser.quit();
      }
    } finally {
      if (server != null) {
        server.close();
      }
    }
  }

  @Test
  void promptStreamsTheChosenModelsTextAsTheApiGivesIt() throws Exception {
    open();
    find("#gpt_model option[value='other']").click();
    type("prompt", "The sea");
    type("max_tokens", "40");
    type("temperature", "1.0");
    type("seed", "7");
    // Counts the changes to the output box, to see the text grow as events arrive.
    browser.executeScript("window.outputChanges = 0; new MutationObserver(m => window.outputChanges += m.length)"
        + ".observe(document.getElementById('output'), {childList: true, characterData: true, subtree: true});");
    find("#generate").click();
    waitFor("the generation to finish", () -> "true".equals(find("#output").getDomAttribute("data-done"))
        || find("#generate_status").getText().startsWith("Failed"));
    String shown = text("output");
    screenshot("serve-page-generate");
    String expected = client.post("/v1/generate", Map.of("model", "other", "prompt", "The sea", "max_tokens", 40,
        "temperature", 1.0, "seed", 7)).json().get("text").asText();
    assertEquals(expected, shown, "the page must show /v1/generate's text for the same model, prompt and seed");
    String tiny = client.post("/v1/generate", Map.of("model", "tiny", "prompt", "The sea", "max_tokens", 40,
        "temperature", 1.0, "seed", 7)).json().get("text").asText();
    assertTrue(!tiny.equals(shown), "the chosen model 'other' must have answered, not 'tiny'");
    long changes = (Long) browser.executeScript("return window.outputChanges;");
    assertTrue(changes > 5, "the text must grow as it streams in, but the output box changed " + changes + " times");
    assertTrue(find("#generate_status").getText().startsWith("40 tokens from other"), find("#generate_status").getText());
  }

  @Test
  void classifyShowsLabelProbabilitiesAndHighlightedWords() throws Exception {
    open();
    String text = "The staff was lovely and the view too";
    type("text", text);
    find("#classify").click();
    waitFor("the classification", () -> !browser.findElements(By.cssSelector("#explanation, #classify_error"))
        .isEmpty());
    screenshot("serve-page-classify");
    JsonNode api = client.post("/v1/classify", Map.of("texts", List.of(text), "explain", 3)).json()
        .get("results").get(0);
    assertEquals("label " + api.get("label").asInt(), text("label"));
    assertEquals("label 1", text("label"), "'lovely' is a positive word");
    StringBuilder probabilities = new StringBuilder();
    for (int k = 0; k < api.get("probabilities").size(); k++) {
      probabilities.append(k == 0 ? "" : " \u00b7 ").append("class ").append(k).append(": ")
          .append(String.format(Locale.ROOT, "%.3f", api.get("probabilities").get(k).asDouble()));
    }
    assertEquals(probabilities.toString(), text("probabilities"));
    JsonNode why = api.get("explanation");
    assertEquals(marked(why, "towards"), highlighted("towards"));
    assertEquals(marked(why, "away"), highlighted("away"));
    assertTrue(highlighted("towards").contains("lovely"), "'lovely' must be highlighted: " + highlighted("towards"));
    assertEquals(why.get("tokens").size(), browser.findElements(By.cssSelector("#explanation span")).size());

    find("#method option[value='lime']").click();
    find("#classify").click();
    waitFor("LIME's explanation", () -> text("classification").contains("lime:"));
    JsonNode lime = client.post("/v1/classify", Map.of("texts", List.of(text), "explain", 3, "method", "lime")).json()
        .get("results").get(0).get("explanation");
    assertEquals(marked(lime, "towards"), highlighted("towards"), "LIME at its default seed, as the API gives it");
    assertEquals(marked(lime, "away"), highlighted("away"));
  }

  @Test
  void aRefusedRequestShowsTheServersMessage() throws Exception {
    open();
    type("prompt", "");
    find("#generate").click();
    waitFor("the refusal", () -> "error".equals(find("#output").getDomAttribute("class")));
    assertTrue(text("output").contains("'prompt' must hold 1 to"), text("output"));
  }

  /** Loads the page and waits until it has listed the models. */
  private static void open() {
    browser.get("http://127.0.0.1:" + server.port() + "/");
    waitFor("the model list", () -> browser.findElements(By.cssSelector("#gpt_model option")).size() == 2);
    for (String model : List.of("tiny (gpt)", "other (gpt)", "sentiment (classifier)")) {
      assertTrue(text("models").contains(model), "the page must list " + model + ": " + text("models"));
    }
  }

  private static WebElement find(String css) {
    return browser.findElement(By.cssSelector(css));
  }

  /** Replaces the value of the input or text area {@code id} by {@code value}, as typing does. */
  private static void type(String id, String value) {
    WebElement e = find("#" + id);
    e.clear();
    e.sendKeys(value);
  }

  /** The element's text exactly as the DOM holds it (WebDriver's getText() would fold white space). */
  private static String text(String id) {
    return (String) browser.executeScript("return document.getElementById(arguments[0]).textContent;", id);
  }

  private static List<String> highlighted(String kind) {
    List<String> out = new ArrayList<>();
    browser.findElements(By.cssSelector("#explanation span." + kind)).forEach(e -> out.add(e.getText()));
    return out;
  }

  /** The words of an API explanation listed under {@code kind} ("towards", "away"), in text order. */
  private static List<String> marked(JsonNode explanation, String kind) {
    Set<Integer> positions = new HashSet<>();
    explanation.get(kind).forEach(w -> positions.add(w.get("position").asInt()));
    List<String> out = new ArrayList<>();
    explanation.get("tokens").forEach(t -> {
      if (positions.contains(t.get("position").asInt())) {
        out.add(t.get("token").asText());
      }
    });
    return out;
  }

  private static void waitFor(String what, java.util.function.BooleanSupplier done) {
    new WebDriverWait(browser, Duration.ofSeconds(30)).withMessage(what + " did not show on the page within 30 s")
        .until(d -> done.getAsBoolean());
  }

  private static void screenshot(String name) throws IOException {
    Files.write(SCREENSHOTS.resolve(name + ".png"), browser.getScreenshotAs(OutputType.BYTES));
  }
}
