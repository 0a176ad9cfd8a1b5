// SerializableHadoopConf: a Hadoop Configuration's entries as a Serializable map, so that a
// task closure carries the driver's FileSystem settings (spark.hadoop.*, s3a credentials,
// hdfs addresses) to the executors. It is NOT a live view: later changes on the driver are
// not seen.
package org.ringtrain.driver.data;

import java.io.Serializable;
import java.util.HashMap;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;

/** A snapshot of a Hadoop {@link Configuration} that survives Java serialisation. */
final class SerializableHadoopConf implements Serializable {

  private static final long serialVersionUID = 1L;

  private final HashMap<String, String> entries = new HashMap<>();
  private transient Configuration conf;

  SerializableHadoopConf(Configuration source) {
    for (Map.Entry<String, String> e : source) {
      entries.put(e.getKey(), e.getValue());
    }
  }

  /** The configuration rebuilt from the snapshot (once per deserialised copy). */
  synchronized Configuration get() {
    if (conf == null) {
      Configuration c = new Configuration(false);
      entries.forEach(c::set);
      conf = c;
    }
    return conf;
  }
}
