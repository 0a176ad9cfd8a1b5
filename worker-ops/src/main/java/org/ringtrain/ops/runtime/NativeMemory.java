/*
 * NativeMemory: this JVM's memory as JavaCPP (under ND4J) sees it: the process's resident size,
 * the limits JavaCPP enforces and the machine's physical memory. It reads numbers only; it sets no
 * limit and allocates nothing.
 */
package org.ringtrain.ops.runtime;

import org.bytedeco.javacpp.Pointer;

/**
 * JavaCPP's memory counters and limits. ND4J's CPU arrays are allocated by libnd4j, outside
 * JavaCPP's own byte counter ({@code maxbytes} does not bound them), but JavaCPP checks the
 * process's resident size against {@link #maxResidentBytes()}
 * ({@code -Dorg.bytedeco.javacpp.maxphysicalbytes}) on each of the small allocations ND4J makes
 * through it all the time, and refuses them past it ("Physical memory usage is too high"): that
 * limit bounds the whole process, Java heap included.
 */
public final class NativeMemory {

  private NativeMemory() {
  }

  /** The process's resident set size in bytes (Java heap, native code and off-heap memory). */
  public static long residentBytes() {
    return Pointer.physicalBytes();
  }

  /** The resident size past which JavaCPP refuses allocations; 0 or less means no limit. */
  public static long maxResidentBytes() {
    return Pointer.maxPhysicalBytes();
  }

  /** The machine's physical memory in bytes (0 if unknown). */
  public static long physicalMemoryBytes() {
    return Pointer.totalPhysicalBytes();
  }
}
