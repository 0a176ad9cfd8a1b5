/*
 * Arena: the activation arrays of a model (any model: Transformer, LSTM), allocated once for the largest batch shape and handed
 * out as prefix views for any smaller shape, so a new batch shape costs no allocation. It computes
 * nothing and knows no layer.
 */
package org.ringtrain.ops.param;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * A list of flat arrays, one per {@link #take} of the sizing pass. The first pass (right after
 * construction) allocates each array at the requested size; after {@link #reset()} the i-th take
 * returns a c-order view of the first {@code prod(shape)} elements of the i-th array, which must
 * be no larger than at sizing.
 *
 * <p>Why one array per tensor and not one big buffer carved into pieces: in ND4J 1.0.0-M2.1 a
 * view at a non-zero offset gets a DataBuffer of its own (originalOffset &gt; 0), and sub-views of
 * such a view ({@code get(point(1))}, a row block) are checked against that buffer's length with
 * the original offset added, so they come back with a null buffer near the end. Every view
 * handed out here starts at offset 0 of its own array, and its sub-views work.
 *
 * <p>A view, once made, is kept and handed out again for the same array and shape: making one
 * costs three ND4J views, each with a native shape buffer, and a Transformer classifier's ~55
 * arrays re-carved for every new (B, T') took 2-3 ms a step where the step itself took 4 (batches
 * trimmed to their longest row change T' almost every step). At most {@link #MAX_VIEWS} are kept;
 * past that the cache starts again empty.
 */
public final class Arena implements AutoCloseable {

  /** Views kept before the cache is emptied: 64 shapes of a ~60-array model. */
  static final int MAX_VIEWS = 4096;

  private final DataType dataType;
  private final List<INDArray> arrays = new ArrayList<>();
  private final Map<ViewKey, INDArray> views = new HashMap<>();
  private boolean sized;
  private int next;

  /** An empty arena; the first carving pass allocates. */
  public Arena(DataType dataType) {
    this.dataType = dataType;
  }

  /** The next array, as a view of this shape (allocating it during the sizing pass). */
  public INDArray take(long... shape) {
    long n = 1;
    for (long d : shape) {
      n *= d;
    }
    if (!sized) {
      INDArray a = Nd4j.create(dataType, shape);
      arrays.add(a);
      return a;
    }
    int index = next++;
    ViewKey key = new ViewKey(index, shape);
    INDArray cached = views.get(key);
    if (cached != null) {
      return cached;
    }
    INDArray root = arrays.get(index);
    if (n > root.length()) {
      throw new IllegalStateException("arena array " + index + " holds " + root.length() + " elements, not "
          + n + "; the activations were sized for a smaller batch (a bug: the model must reallocate)");
    }
    INDArray flat = root.reshape(root.length());
    INDArray view = (n == root.length() ? flat : flat.get(NDArrayIndex.interval(0, n))).reshape(shape);
    if (views.size() >= MAX_VIEWS) {
      views.clear();
    }
    views.put(new ViewKey(index, shape.clone()), view);
    return view;
  }

  /** An array of the arena and a shape of it; equal when both are. */
  private record ViewKey(int index, long[] shape) {
    @Override
    public boolean equals(Object o) {
      return o instanceof ViewKey k && k.index == index && Arrays.equals(k.shape, shape);
    }

    @Override
    public int hashCode() {
      return 31 * index + Arrays.hashCode(shape);
    }
  }

  /** Ends the sizing pass (first call) or a carving pass: the next take is the first array again. */
  public void reset() {
    sized = true;
    next = 0;
  }

  /** Off-heap bytes held. */
  public long bytes() {
    long total = 0;
    for (INDArray a : arrays) {
      total += a.length() * a.dataType().width();
    }
    return total;
  }

  @Override
  public void close() {
    for (INDArray a : arrays) {
      if (!a.wasClosed()) {
        a.close();
      }
    }
    arrays.clear();
    views.clear();
  }
}
