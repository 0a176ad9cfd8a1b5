/**
 * Several "hosts" on one Linux machine for tests and benchmarks: network namespaces joined by
 * bandwidth-limited links (NetnsHosts over build/netns-hosts.sh), ring ranks as separate processes
 * placed on them (RankProcesses, RingRankMain, FileBoardRendezvous), and the benchmark behind
 * bench/ring-hosts.sh (HostsRingBench).
 *
 * <p>Test sources only (shared through parameter-sync's test-jar); JDK and the ring's public API,
 * never ND4J, ops or Spark. Stability: internal to the build's tests and benchmarks.
 */
package org.ringtrain.sync.netns;
