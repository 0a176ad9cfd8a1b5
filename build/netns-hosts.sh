#!/usr/bin/env bash
# Several "hosts" on one Linux machine for tests and benchmarks: K network namespaces joined by a
# bridge, one veth link per host, each optionally limited to a rate by tbf in both directions.
# It is the shell half of the Java test fixture org.ringtrain.sync.netns.NetnsHosts (and of
# bench/hosts.sh); it is not a general network tool and never touches a device, address or route it
# did not create. Needs root and iproute2 (ip, tc). netem is not used (this kernel has none).
#
#   netns-hosts.sh up PREFIX K [RATE]     make K hosts; RATE like 1gbit, 500mbit, or "none"
#                                         (default 1gbit). Prints "subnet A.B.C", "bridge ADDR",
#                                         then one "host I NAMESPACE ADDR DEVICE" line per host.
#   netns-hosts.sh down PREFIX            remove every namespace and device of PREFIX
#   netns-hosts.sh link PREFIX I up|down  bring host I's link up or down (its root-side veth)
#   netns-hosts.sh rate PREFIX I RATE     change host I's link rate (both directions; "none" = unlimited)
#   netns-hosts.sh clean-stale            remove the hosts of every run whose owning process is gone
#
# PREFIX is "rt<pid>_<n>": the pid of the process that owns the hosts, so that clean-stale (run by
# every "up") removes what a crashed run left behind and never what a live run still uses.
# Names: namespaces PREFIXh<I>, bridge PREFIXbr, root-side veths PREFIXv<I> (inside: eth0).
# Addresses: a free /24 of 10.213.0.0/16 (one no address or route of this machine overlaps);
# host I is .(I+1), the bridge (the root namespace's address on the test net) is .254.
set -euo pipefail

readonly LOCK=/run/lock/ringtrain-netns-hosts.lock
readonly NAME_RE='^rt[0-9]+_[0-9]+$'

die() { echo "netns-hosts.sh: $*" >&2; exit 2; }

check_prefix() {
  [[ $1 =~ $NAME_RE ]] || die "PREFIX must look like rt<pid>_<n> (e.g. rt4242_0), but found '$1'"
}

check_rate() {
  [[ $1 == none || $1 =~ ^[1-9][0-9]*(k|m|g)?bit$ ]] \
    || die "RATE must be an integer with unit kbit, mbit, gbit or bit (e.g. 1gbit), or none, but found '$1'"
}

# tbf's bucket: 4 ms of traffic at the rate (at least 64 KiB, above one GSO packet), so that the
# shaper is smooth at 1 Gbit/s and still reaches 10 Gbit/s with the kernel's 250 Hz timer. The
# queue holds 5 ms of traffic beyond the bucket, like a switch port, not a bloated buffer: with
# 50 ms the round trip grew until the ring's 4 MiB socket buffers, not the link, set the pace.
burst_bytes() {
  local n=${1%bit} mult=1
  case $n in
    *k) mult=1000; n=${n%k} ;;
    *m) mult=1000000; n=${n%m} ;;
    *g) mult=1000000000; n=${n%g} ;;
  esac
  local b=$(( n * mult / 8 / 250 ))
  (( b < 65536 )) && b=65536
  echo "$b"
}

set_rate() { # namespace root_dev rate
  local ns=$1 dev=$2 rate=$3
  if [[ $rate == none ]]; then
    tc qdisc del dev "$dev" root 2>/dev/null || true
    ip netns exec "$ns" tc qdisc del dev eth0 root 2>/dev/null || true
    return
  fi
  local burst
  burst=$(burst_bytes "$rate")
  tc qdisc replace dev "$dev" root tbf rate "$rate" burst "$burst" latency 5ms
  ip netns exec "$ns" tc qdisc replace dev eth0 root tbf rate "$rate" burst "$burst" latency 5ms
}

# IPv4 only: no link-local IPv6 addresses, so no neighbour discovery leaves the fixture's links.
no_ipv6() {
  sysctl -qw "net.ipv6.conf.$1.disable_ipv6=1" 2>/dev/null || true
}

ip_to_int() {
  local IFS=.
  # shellcheck disable=SC2086 # split on dots on purpose
  set -- $1
  echo $(( ($1 << 24) | ($2 << 16) | ($3 << 8) | $4 ))
}

# Prints the first 10.213.X of a /24 that no IPv4 address or route of the root namespace overlaps.
free_subnet() {
  local used x lo hi net len start end taken
  used=$( { ip -o -4 addr show; ip -4 route show table all; } \
    | grep -oE '[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+(/[0-9]+)?' | sort -u)
  for x in $(seq 0 255); do
    lo=$(ip_to_int "10.213.$x.0"); hi=$(( lo + 255 )); taken=0
    for net in $used; do
      len=32; [[ $net == */* ]] && len=${net#*/}
      (( len == 0 )) && continue # a default route overlaps everything and is no address
      start=$(ip_to_int "${net%/*}"); start=$(( start & ~((1 << (32 - len)) - 1) & 0xffffffff ))
      end=$(( start + (1 << (32 - len)) - 1 ))
      if (( start <= hi && end >= lo )); then taken=1; break; fi
    done
    (( taken == 0 )) && { echo "10.213.$x"; return; }
  done
  die "no free /24 left in 10.213.0.0/16 (every one overlaps an address or route here); remove stale hosts with: $0 clean-stale"
}

down() {
  local prefix=$1 ns dev
  for ns in $(ip netns list | awk '{print $1}' | grep -E "^${prefix}h[0-9]+$" || true); do
    ip netns del "$ns" 2>/dev/null || true
  done
  for dev in $(ip -o link show | awk -F': ' '{print $2}' | cut -d@ -f1 | grep -E "^${prefix}(br|v[0-9]+)$" || true); do
    ip link del "$dev" 2>/dev/null || true
  done
}

clean_stale() {
  local name pid
  for name in $( { ip netns list | awk '{print $1}'; ip -o link show | awk -F': ' '{print $2}' | cut -d@ -f1; } \
      | grep -oE '^rt[0-9]+_[0-9]+' | sort -u || true); do
    pid=${name#rt}; pid=${pid%%_*}
    if [[ ! -d /proc/$pid ]]; then
      echo "netns-hosts.sh: removing hosts $name* left by process $pid, which is gone" >&2
      down "$name"
    fi
  done
}

up() {
  local prefix=$1 k=$2 rate=${3:-1gbit} subnet i ns dev
  [[ $k =~ ^[1-9][0-9]?$ && $k -le 32 ]] || die "K (hosts) must be in [1, 32], but found '$k'"
  check_rate "$rate"
  clean_stale
  down "$prefix"
  subnet=$(free_subnet)
  ip link add "${prefix}br" type bridge
  no_ipv6 "${prefix}br"
  ip addr add "$subnet.254/24" dev "${prefix}br"
  ip link set "${prefix}br" up
  echo "subnet $subnet"
  echo "bridge $subnet.254"
  for (( i = 0; i < k; i++ )); do
    ns="${prefix}h$i" dev="${prefix}v$i"
    ip netns add "$ns"
    ip link add "$dev" type veth peer name "${prefix}p$i"
    no_ipv6 "$dev"
    ip link set "${prefix}p$i" netns "$ns"
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
    ip netns exec "$ns" ip link set "${prefix}p$i" name eth0
    ip netns exec "$ns" ip addr add "$subnet.$(( i + 1 ))/24" dev eth0
    ip netns exec "$ns" ip link set lo up
    ip netns exec "$ns" ip link set eth0 up
    ip link set "$dev" master "${prefix}br" up
    set_rate "$ns" "$dev" "$rate"
    echo "host $i $ns $subnet.$(( i + 1 )) $dev"
  done
}

[[ $# -ge 1 ]] || die "usage: $0 up PREFIX K [RATE] | down PREFIX | link PREFIX I up|down | rate PREFIX I RATE | clean-stale"
[[ $(id -u) -eq 0 ]] || die "must run as root (network namespaces need CAP_NET_ADMIN); found uid $(id -u)"
command -v ip >/dev/null && command -v tc >/dev/null || die "needs iproute2 (ip and tc) on the PATH"
mkdir -p "$(dirname "$LOCK")"
exec 9>"$LOCK"
flock -w 60 9 || die "another netns-hosts.sh held $LOCK for 60 s"

cmd=$1
shift
case $cmd in
  up) [[ $# -ge 2 ]] || die "usage: $0 up PREFIX K [RATE]"; check_prefix "$1"; up "$@" ;;
  down) [[ $# -eq 1 ]] || die "usage: $0 down PREFIX"; check_prefix "$1"; down "$1" ;;
  link)
    [[ $# -eq 3 && ($3 == up || $3 == down) ]] || die "usage: $0 link PREFIX I up|down, but found: $*"
    check_prefix "$1"; ip link set "$1v$2" "$3" ;;
  rate)
    [[ $# -eq 3 ]] || die "usage: $0 rate PREFIX I RATE"
    check_prefix "$1"; check_rate "$3"; set_rate "$1h$2" "$1v$2" "$3" ;;
  clean-stale) clean_stale ;;
  *) die "unknown command '$cmd'; expected up, down, link, rate or clean-stale" ;;
esac
