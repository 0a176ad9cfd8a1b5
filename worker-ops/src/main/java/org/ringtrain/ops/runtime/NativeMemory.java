/*
 * NativeMemory: this JVM's off-heap memory as JavaCPP (under ND4J) sees it: what is allocated now,
 * the process's resident size, the limits JavaCPP enforces and the machine's physical memory. It
 * reads numbers only; it sets no limit and allocates nothing.
 */
package org.ringtrain.ops.runtime;

import org.bytedeco.javacpp.Pointer;

/**
 * JavaCPP's memory counters and limits. ND4J's CPU arrays are allocated through JavaCPP, which
 * refuses an allocation once {@link #allocatedBytes()} would pass {@link #maxAllocatedBytes()}
 * ({@code -Dorg.bytedeco.javacpp.maxbytes}, default the maximum Java heap) or the resident size
 * would pass {@link #maxResidentBytes()} ({@code -Dorg.bytedeco.javacpp.maxphysicalbytes}).
 */
public final class NativeMemory {

  private NativeMemory() {
  }

  /** Off-heap bytes JavaCPP has allocated and not yet freed (ND4J's arrays among them). */
  public static long allocatedBytes() {
    return Pointer.totalBytes();
  }

  /** The process's resident set size in bytes (Java heap, native code and off-heap memory). */
  public static long residentBytes() {
    return Pointer.physicalBytes();
  }

  /** The most off-heap bytes JavaCPP lets this JVM allocate; 0 or less means no limit. */
  public static long maxAllocatedBytes() {
    return Pointer.maxBytes();
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
