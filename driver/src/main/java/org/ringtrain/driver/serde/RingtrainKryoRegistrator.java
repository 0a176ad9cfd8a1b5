// Registers every class ringtrain moves through Spark's serializer (shuffled
// sequences, task results), so that spark.kryo.registrationRequired=true can
// stay on and an unregistered class fails loudly instead of silently costing
// a class name per record. Records go through Java serialisation: Kryo 4
// cannot set a record's final fields. MLlib is optional: a classpath without it
// (the benchmarks, a job that never evaluates) skips the MLlib classes, while a
// missing ringtrain class still fails. Not a place for serializers themselves.
package org.ringtrain.driver.serde;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.serializers.JavaSerializer;
import org.apache.spark.serializer.KryoRegistrator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Set {@code spark.kryo.registrator=org.ringtrain.driver.serde.RingtrainKryoRegistrator}.
 *
 * <p>Classes are looked up through the thread's context class loader, the one Spark installs
 * while it runs registrators (the application's loader on an executor), or this class's own loader
 * when the thread has none.
 */
public final class RingtrainKryoRegistrator implements KryoRegistrator {
  private static final Logger LOG = LoggerFactory.getLogger(RingtrainKryoRegistrator.class);

  /** Classes Kryo serialises field by field. */
  private static final Class<?>[] PLAIN = {
      int[].class, int[][].class, long[].class, float[].class, double[].class, byte[].class,
      Object[].class, String[].class,
  };

  /** Java records and other types that need Java serialisation under Kryo 4, by name (some are package-private). */
  private static final String[] RECORDS = {
      "org.ringtrain.driver.train.RankResult",
      "org.ringtrain.driver.train.RankResult[]",
      "org.ringtrain.driver.train.RankData",
      "org.ringtrain.driver.data.FileTokens",
      "org.ringtrain.driver.data.TokenBlock",
      "org.ringtrain.driver.data.TableCorpus$Scan", // a partition scan's result
      "org.ringtrain.driver.gpt.GptTextModel$Shipped", // broadcast to transform
      "org.ringtrain.driver.classify.Vocabulary", // broadcast to encode rows
      "org.ringtrain.driver.classify.Backbone", // broadcast to start the encoders of every rank
      "org.ringtrain.driver.classify.TextClassificationModel$Shipped", // broadcast to transform
  };

  /**
   * MLlib classes its evaluators shuffle, which Spark itself does not register: without them
   * registrationRequired=true breaks BinaryClassificationEvaluator. Registered only when MLlib is
   * on the classpath; without MLlib nothing can shuffle them.
   */
  private static final String[] MLLIB = {
      "org.apache.spark.mllib.evaluation.binary.BinaryLabelCounter",
      "org.apache.spark.mllib.evaluation.binary.BinaryLabelCounter[]",
  };

  @Override
  public void registerClasses(Kryo kryo) {
    ClassLoader loader = loader();
    for (Class<?> c : PLAIN) {
      kryo.register(c);
    }
    for (String name : MLLIB) {
      try {
        kryo.register(load(name, loader));
      } catch (ClassNotFoundException e) {
        LOG.debug("MLlib is not on the classpath ({} not found); its classes are not registered with Kryo", name);
      }
    }
    for (String name : RECORDS) {
      Class<?> c;
      try {
        c = load(name, loader);
      } catch (ClassNotFoundException e) {
        throw new IllegalStateException("Kryo registration names a ringtrain class that does not exist: expected "
            + name + " on the classpath of " + loader + ", found none; update RingtrainKryoRegistrator.RECORDS "
            + "after renaming or removing the class", e);
      }
      kryo.register(c, c.isArray() ? kryo.getDefaultSerializer(c) : new JavaSerializer());
    }
  }

  private static ClassLoader loader() {
    ClassLoader context = Thread.currentThread().getContextClassLoader();
    return context != null ? context : RingtrainKryoRegistrator.class.getClassLoader();
  }

  /**
   * Loads {@code name} ("a.B" or "a.B[]") without initialising it: registration needs the class
   * object only, and a class whose static initialiser touches an absent library must not fail here.
   */
  private static Class<?> load(String name, ClassLoader loader) throws ClassNotFoundException {
    String binaryName = name.endsWith("[]") ? "[L" + name.substring(0, name.length() - 2) + ";" : name;
    return Class.forName(binaryName, false, loader);
  }
}
