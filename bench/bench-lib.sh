# Shell functions the benchmark commands share; sourced from the checkout's root by bench/*.sh,
# never run on its own. They build and describe; none of them runs a benchmark.

# Prints <spark.jvm.flags> of the parent pom: the JVM flags Spark needs on Java 17, read from the
# pom so that the tests' and the benchmarks' flags never drift apart.
spark_jvm_flags() {
  local flags
  flags=$(sed -n 's:.*<spark.jvm.flags>\(.*\)</spark.jvm.flags>.*:\1:p' pom.xml)
  [[ -n "$flags" ]] || { echo "$1: could not read <spark.jvm.flags> from pom.xml" >&2; exit 1; }
  echo "$flags"
}

# Writes a log4j2 config to FILE: warnings only, to stderr, except the trainer's progress line (one
# per step), so that Spark's INFO chatter does not bury the report and a long run shows it is alive.
write_quiet_log_config() {
  cat > "$1" <<'LOG'
rootLogger.level = warn
rootLogger.appenderRef.stderr.ref = stderr
appender.stderr.type = Console
appender.stderr.name = stderr
appender.stderr.target = SYSTEM_ERR
appender.stderr.layout.type = PatternLayout
appender.stderr.layout.pattern = %d{HH:mm:ss} %p %c{1}: %m%n
logger.progress.name = org.ringtrain.driver.metrics.ProgressReporter
logger.progress.level = info
LOG
}

# build_test_classpath NAME FILE MAVEN_ARGS...: compiles the test sources of the modules MAVEN_ARGS
# select (e.g. -pl jobs -am) and writes the last module's test classpath to FILE, from this
# checkout's target directories: nothing is installed into the shared ~/.m2.
build_test_classpath() {
  local name=$1 file=$2
  shift 2
  mkdir -p bench/target/tmp
  rm -f "$file"
  mvn -B -q -o "$@" -DskipTests -Dcheckstyle.skip test-compile dependency:build-classpath \
    -Dmdep.outputFile="$file" -Dmdep.includeScope=test
  [[ -s "$file" ]] || { echo "$name: mvn wrote no classpath to $file" >&2; exit 1; }
}

# Prints the machine and its load, for the report: figures mean little on a shared machine without them.
describe_machine() {
  echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; date: $(date -u '+%Y-%m-%d %H:%M UTC'); load:$(uptime | sed 's/.*load average://')"
}
