/*
 * BackbonePretraining: the GPT backbone of the classifier accuracy bench's "transformer-backbone"
 * row, made the way a user would: conf/tiny.yaml's model and optimiser (byte tokenizer) trained
 * on unlabelled text, data/moby-dick.txt, for a given number of steps, through the product's own
 * GptTrainer. It is a bench helper, not a test and not a product entry point (`ringtrain train
 * --config conf/tiny.yaml` is).
 */
package org.ringtrain.bench.model;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import org.apache.spark.api.java.JavaSparkContext;
import org.ringtrain.driver.data.CorpusLoader;
import org.ringtrain.driver.data.DatasetSpec;
import org.ringtrain.driver.data.TrainingData;
import org.ringtrain.driver.gpt.GptTrainer;
import org.ringtrain.driver.gpt.TrainConfig;
import org.ringtrain.driver.gpt.TrainedGpt;

/** Pretrains conf/tiny.yaml's GPT on a text file and returns its checkpoint directory. */
final class BackbonePretraining {

  private BackbonePretraining() {
  }

  /**
   * Trains {@code config} (a YAML file of TrainConfig settings) on {@code corpus} for {@code steps}
   * steps into {@code dir}, printing the time and the final validation loss.
   */
  @SuppressWarnings("unchecked")
  static String pretrain(JavaSparkContext sc, Path config, String corpus, int steps, Path dir) throws IOException {
    Map<String, Object> settings = new LinkedHashMap<>(new ObjectMapper(new YAMLFactory()).readValue(config.toFile(),
        Map.class));
    settings.put("input", corpus);
    settings.put("checkpointDir", dir.toString());
    settings.put("steps", steps);
    settings.put("evalEvery", steps);
    settings.put("checkpointEvery", steps);
    settings.put("checkReplicasEvery", steps);
    settings.put("warmupSteps", Math.min(steps - 1, ((Number) settings.getOrDefault("warmupSteps", 20)).intValue()));
    TrainConfig cfg = TrainConfig.fromLayers(settings);
    DatasetSpec spec = new DatasetSpec(corpus, DatasetSpec.Format.TEXT, cfg.tokenizer().id(), cfg.contextLength(),
        cfg.validationFraction(), cfg.loop().worldSize());
    TrainingData data = CorpusLoader.load(sc, spec);
    long start = System.nanoTime();
    TrainedGpt gpt = new GptTrainer(cfg).fit(sc, data);
    System.out.printf(Locale.ROOT, "backbone: %s trained on %s for %d steps in %.0f s; final training loss %.4f;"
        + " checkpoint %s%n", config, corpus, steps, (System.nanoTime() - start) / 1e9,
        gpt.summary().finalLoss(), gpt.checkpoint());
    return dir.toString();
  }
}
