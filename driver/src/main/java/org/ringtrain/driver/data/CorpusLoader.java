// CorpusLoader: reads a corpus through Spark, tokenizes it on the executors and packs it into
// exactly worldSize equal partitions of training sequences plus a validation split. It does
// NOT shuffle sequences for training (the training stage does, per epoch), never collects
// tokens to the driver (only per-block token counts come back) and never holds a file whole:
// files are streamed into bounded blocks (FileTokens).
package org.ringtrain.driver.data;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import org.apache.hadoop.fs.FileStatus;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.storage.StorageLevel;
import org.ringtrain.driver.fs.HadoopSettings;
import org.ringtrain.driver.fs.InputFiles;
import org.ringtrain.driver.launch.SparkJob;
import org.ringtrain.driver.tokenize.Tokenizer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.Tuple2;

/**
 * Loads a {@link DatasetSpec} into {@link TrainingData}.
 *
 * <p>Steps: resolve the path to files on the driver (sorted); read and tokenize each file in a
 * Spark task ({@code TEXT}, a bounded chunk at a time) or read it as an llm.c shard
 * ({@code SHARDS}, each shard packed like one file), cutting its tokens into blocks of whole
 * sequences ({@link TokenBlock}); collect the per-file token counts; number the sequences globally and split
 * them ({@link SplitPlan}); route each sequence to its rank with one shuffle, sorted by global
 * number so that every load yields the same partitions; persist and count the result.
 */
public final class CorpusLoader {

  private static final Logger LOG = LoggerFactory.getLogger(CorpusLoader.class);

  /** Tasks per core used to read files: small files share tasks, big ones spread. */
  private static final int READ_TASKS_PER_CORE = 4;

  private CorpusLoader() {}

  /** {@link #load(JavaSparkContext, DatasetSpec)} in the Spark application of a job. */
  public static TrainingData load(SparkJob job, DatasetSpec spec) throws IOException {
    return load(job.sparkContext(), spec);
  }

  /**
   * Reads, tokenizes and packs a corpus. Runs two Spark jobs (per-file counts, then routing
   * and a count of the result); fails before any training with a clear message.
   *
   * @param sc the Spark context; its Hadoop configuration is used for every FileSystem access
   * @param spec what to read and how to cut it
   * @return persisted training and validation sequences; see {@link TrainingData}
   * @throws IllegalArgumentException for a missing path, an empty corpus, a corpus shorter
   *     than {@code contextLength + 1} tokens or one too small for {@code worldSize} ranks;
   *     the message says what was found
   * @throws IOException if listing the input fails
   */
  public static TrainingData load(JavaSparkContext sc, DatasetSpec spec) throws IOException {
    Tokenizer tokenizer = spec.tokenizer();
    List<FileStatus> files = InputFiles.resolve(sc.hadoopConfiguration(), spec.path());
    List<String> paths = new ArrayList<>(files.size());
    long bytes = 0;
    for (FileStatus f : files) {
      paths.add(f.getPath().toString());
      bytes += f.getLen();
    }
    LOG.info("reading corpus path={} format={} files={} bytes={} tokenizer={}",
        spec.path(), spec.format(), paths.size(), bytes, tokenizer.id());

    JavaRDD<TokenBlock> tokens = tokenizeFiles(sc, paths, spec.format(), tokenizer, spec.contextLength())
        .persist(StorageLevel.MEMORY_AND_DISK());
    try {
      long[] tokensPerFile = new long[paths.size()];
      List<Tuple2<Integer, Long>> counts;
      try {
        counts = tokens.map(b -> new Tuple2<>(b.file(), b.newTokens())).collect();
      } catch (Exception e) { // a SparkException, which javac cannot name here
        throw TaskFailures.unwrap(spec.path(), e);
      }
      for (Tuple2<Integer, Long> c : counts) {
        tokensPerFile[c._1()] += c._2();
      }
      SplitPlan plan = SplitPlan.of(
          spec.path(), tokensPerFile, spec.contextLength(), spec.validationFraction(),
          spec.worldSize());
      LOG.info("packed corpus path={} tokens={} sequences={} seqLen={} train={}"
              + " validation={}x{}",
          spec.path(), plan.totalTokens(), plan.totalSequences(), spec.sequenceLength(),
          plan.trainSequences(), plan.validationPerRank(), spec.worldSize());
      if (plan.droppedSequences() > 0) {
        LOG.info("dropped {} held-out sequences (global {}..{}) so that each of worldSize={}"
                + " ranks validates on validationPerRank={}",
            plan.droppedSequences(), plan.trainEnd(), plan.validationStart() - 1,
            spec.worldSize(), plan.validationPerRank());
      }

      return pack(sc, tokens, plan, spec, tokenizer, paths.size());
    } finally {
      tokens.unpersist(false);
    }
  }

  /**
   * Routes the planned sequences of {@code blocks} to the ranks: training and validation RDDs of
   * {@code spec.worldSize()} partitions each, persisted and counted (see {@link TrainingData}).
   *
   * @param sources files (or other token streams) the blocks come from, for {@link TrainingData#fileCount()}
   */
  static TrainingData pack(JavaSparkContext sc, JavaRDD<TokenBlock> blocks, SplitPlan plan, DatasetSpec spec,
      Tokenizer tokenizer, int sources) {
    JavaRDD<int[]> train =
        route(blocks, plan, spec.contextLength(), 0, plan.trainEnd(), plan.trainPerPartition());
    JavaRDD<int[]> validation = plan.validationPerRank() == 0
        ? sc.parallelize(new ArrayList<int[]>(), spec.worldSize())
        : route(blocks, plan, spec.contextLength(), plan.validationStart(),
            plan.totalSequences(), plan.validationPerRank());
    train.persist(StorageLevel.MEMORY_AND_DISK()).setName("ringtrain train " + spec.path());
    validation.persist(StorageLevel.MEMORY_AND_DISK())
        .setName("ringtrain validation " + spec.path());
    checkCounts(train, plan.trainPerPartition(), plan.trainSequences(), "train");
    checkCounts(validation, plan.validationPerRank(), plan.validationPerRank() * spec.worldSize(), "validation");
    return new TrainingData(train, validation, spec, tokenizer, sources, plan);
  }

  /**
   * The blocks of every file ({@link FileTokens#read}), each file's in order in one task. Tasks
   * read through the driver's Hadoop configuration, so any FileSystem configured there works on
   * the executors.
   */
  static JavaRDD<TokenBlock> tokenizeFiles(JavaSparkContext sc, List<String> paths, DatasetSpec.Format format,
      Tokenizer tokenizer, int contextLength) {
    HadoopSettings hadoop = HadoopSettings.of(sc);
    List<String> filePaths = List.copyOf(paths);
    return fileIndices(sc, filePaths.size()).flatMap(i ->
        FileTokens.read(hadoop.toConfiguration(), i, filePaths.get(i), format, tokenizer, contextLength));
  }

  /** The indices {@code 0..files-1}, spread over tasks: small files share tasks, big ones spread. */
  static JavaRDD<Integer> fileIndices(JavaSparkContext sc, int files) {
    List<Integer> indices = new ArrayList<>(files);
    for (int i = 0; i < files; i++) {
      indices.add(i);
    }
    int slices = Math.max(1, Math.min(files, sc.defaultParallelism() * READ_TASKS_PER_CORE));
    return sc.parallelize(indices, slices);
  }

  /**
   * The sequences with global numbers in {@code [from, to)}, in {@code worldSize} partitions
   * of {@code perRank} each (the last ones fewer when {@code to - from} is less than {@code
   * perRank * worldSize}), sorted by global number within each partition.
   */
  private static JavaRDD<int[]> route(
      JavaRDD<TokenBlock> tokens, SplitPlan plan, int contextLength, long from, long to,
      long perRank) {
    JavaPairRDD<Long, int[]> keyed = tokens.flatMapToPair(block -> {
      int[] stream = block.tokens();
      long offset = plan.sequenceOffset(block.file()) + block.firstSequence();
      long count = SequencePacker.sequenceCount(stream.length, contextLength);
      long first = Math.max(0, from - offset);
      long end = Math.min(count, to - offset);
      // Lazy: one sequence copy at a time, so a block is not held twice in memory.
      return new Iterator<Tuple2<Long, int[]>>() {
        private long next = first;

        @Override
        public boolean hasNext() {
          return next < end;
        }

        @Override
        public Tuple2<Long, int[]> next() {
          if (next >= end) {
            throw new NoSuchElementException("no sequence after " + (offset + end - 1));
          }
          long i = next++;
          return new Tuple2<>(offset + i, SequencePacker.sequence(stream, i, contextLength));
        }
      };
    });
    return keyed
        .repartitionAndSortWithinPartitions(
            new RankBlockPartitioner(plan.worldSize(), from, perRank))
        .values();
  }

  /**
   * Counts every partition once (this also materialises the persisted RDD): {@code total}
   * sequences in partitions of {@code perPartition}, the last ones holding what is left.
   */
  private static void checkCounts(JavaRDD<int[]> rdd, long perPartition, long total, String what) {
    List<Long> counts = rdd.mapPartitions((Iterator<int[]> it) -> {
      long n = 0;
      while (it.hasNext()) {
        it.next();
        n++;
      }
      return List.of(n).iterator();
    }).collect();
    for (int r = 0; r < counts.size(); r++) {
      long expected = Math.min(perPartition, Math.max(0, total - r * perPartition));
      if (counts.get(r) != expected) {
        throw new IllegalStateException(
            what + " partition " + r + " holds " + counts.get(r) + " sequences, expected "
                + expected + " (" + total + " in partitions of " + perPartition
                + "); the input changed while it was read");
      }
    }
  }
}
