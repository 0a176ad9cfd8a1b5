/**
 * The GPT run on top of the generic loop: its run config (TrainConfig: corpus, tokenizer,
 * shape + LoopConfig), the checks before Spark starts (TrainingPreflight), the recipe that feeds
 * token windows to a GptModel (GptRecipe), the trainer whose fit returns exactly the run's final
 * checkpoint as a TrainedGpt, and evaluation (GptEvaluator).
 *
 * <p>Must not import driver.classify or ops.classify. Stability: TrainConfig, GptTrainer, TrainedGpt,
 * PretrainedGpt, GptEvaluator and TrainingPreflight are public API; the rest is internal.
 */
package org.ringtrain.driver.gpt;
