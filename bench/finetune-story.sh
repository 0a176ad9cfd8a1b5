#!/usr/bin/env bash
# The fine-tuning story of docs/finetuning.md: pretrain the small GPT on data/moby-dick.txt, then
# train on data/sotu-1790-1819.txt by full fine-tuning, by LoRA and from scratch for the same
# steps, and print each model's validation loss on both texts. --pretrained starts from a model
# pretrained earlier (a run's checkpoint directory or a GPT-2 safetensors file) instead.
#   bench/finetune-story.sh                                   # 200 + 3 x 60 steps (~30-60 minutes on 2 cores)
#   bench/finetune-story.sh --pretrain-steps 50 --finetune-steps 20 --out target/story-quick
#   bench/finetune-story.sh --pretrained target/runs/small --finetune-steps 200   # no pretraining
# Heap: the driver holds the byte-token sequences of both texts; models live off-heap in ND4J.
exec "$(dirname "$0")/run-main.sh" story org.ringtrain.bench.finetune.FinetuneStory "-Xmx3g" "$@"
