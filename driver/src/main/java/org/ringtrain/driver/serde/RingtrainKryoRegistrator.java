// Registers every class ringtrain moves through Spark's serializer (shuffled
// sequences, task results), so that spark.kryo.registrationRequired=true can
// stay on and an unregistered class fails loudly instead of silently costing
// a class name per record. Records go through Java serialisation: Kryo 4
// cannot set a record's final fields.
package org.ringtrain.driver.serde;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.serializers.JavaSerializer;
import org.apache.spark.serializer.KryoRegistrator;

/** Set {@code spark.kryo.registrator=org.ringtrain.driver.serde.RingtrainKryoRegistrator}. */
public final class RingtrainKryoRegistrator implements KryoRegistrator {

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
      "org.ringtrain.driver.classify.Vocabulary", // broadcast to encode rows
      "org.ringtrain.driver.classify.TextClassificationModel$Shipped", // broadcast to transform
  };

  /**
   * MLlib classes its evaluators shuffle, which Spark itself does not register: without them
   * registrationRequired=true breaks BinaryClassificationEvaluator.
   */
  private static final String[] MLLIB = {
      "org.apache.spark.mllib.evaluation.binary.BinaryLabelCounter",
      "org.apache.spark.mllib.evaluation.binary.BinaryLabelCounter[]",
  };

  @Override
  public void registerClasses(Kryo kryo) {
    for (Class<?> c : PLAIN) {
      kryo.register(c);
    }
    for (String name : MLLIB) {
      kryo.register(load(name));
    }
    for (String name : RECORDS) {
      Class<?> c = load(name);
      if (c != null) {
        kryo.register(c, c.isArray() ? kryo.getDefaultSerializer(c) : new JavaSerializer());
      }
    }
  }

  private static Class<?> load(String name) {
    try {
      if (name.endsWith("[]")) {
        return Class.forName("[L" + name.substring(0, name.length() - 2) + ";");
      }
      return Class.forName(name);
    } catch (ClassNotFoundException e) {
      throw new IllegalStateException("Kryo registration names a class that does not exist: " + name
          + "; update RingtrainKryoRegistrator", e);
    }
  }
}
