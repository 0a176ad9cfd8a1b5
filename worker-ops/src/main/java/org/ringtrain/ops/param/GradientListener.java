// The hook that lets communication overlap backward: GptModel calls it each
// time a contiguous range of the flat gradient buffer holds its final value for
// this backward pass. It does not decide what to do with the range.
package org.ringtrain.ops.param;

import org.ringtrain.ops.gpt.GptModel;

/** Told, during backward, which gradients are final. */
@FunctionalInterface
public interface GradientListener {

  /**
   * Gradients in flat elements [from, to) will not change again in this backward pass. Calls come
   * from the end of the buffer towards its start, each range ending where the previous one began.
   */
  void ready(long from, long to);
}
