/**
 * The fine-tuning benchmark: full fine-tuning against LoRA on one rank, side by side in one JVM
 * (trainable parameters, ring bytes per step, optimizer memory, step time). Internal: a command,
 * not an API.
 */
package org.ringtrain.bench.finetune;
