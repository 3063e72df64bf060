package io.capstan.tuning;

import com.google.re2j.Pattern;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * How a trial's metrics are collected: {@code spec.metricsCollectorSpec}.
 *
 * @param path    the file Katib's File collector reads, as the trial's command names it; empty for the others
 * @param filters regular expressions with two groups, metric name and value; Katib's default when none is given.
 *                RE2 syntax and semantics, as Katib compiles them with Go's regexp package
 */
record MetricsCollectorSpec(CollectorKind kind, Optional<String> path, FileFormat format, List<Pattern> filters) {
    /** Katib's default {@code metricsFormat}: {@code name=value}, the name of word characters, '|' and '-'. */
    static final Pattern DEFAULT_FILTER = Pattern.compile("([\\w|-]+)\\s*=\\s*([+-]?\\d*(\\.\\d+)?([Ee][+-]?\\d+)?)");
    static final MetricsCollectorSpec STDOUT = new MetricsCollectorSpec(CollectorKind.STDOUT, Optional.empty(), FileFormat.TEXT, List.of(DEFAULT_FILTER));

    MetricsCollectorSpec {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(format, "format");
        filters = List.copyOf(filters);
    }

    enum CollectorKind {
        STDOUT("StdOut"), FILE("File"), PUSH("Push"), NONE("None"),
        TENSORFLOW_EVENT("TensorFlowEvent"), PROMETHEUS("PrometheusMetric"), CUSTOM("Custom");

        final String wire;

        CollectorKind(String wire) {
            this.wire = wire;
        }

        static Optional<CollectorKind> ofWire(String text) {
            for (var k : values()) if (k.wire.equals(text)) return Optional.of(k);
            return Optional.empty();
        }

        /** Why trials of this kind cannot run locally, or empty when they can. */
        Optional<String> refusal() {
            return switch (this) {
                case STDOUT, FILE, PUSH, NONE -> Optional.empty();
                case TENSORFLOW_EVENT -> Optional.of("the TensorFlowEvent collector reads TensorFlow summary files, which Capstan does not parse; "
                        + "print name=value lines (StdOut), write a metrics file (File) or use Push");
                case PROMETHEUS -> Optional.of("the PrometheusMetric collector scrapes a Pod's metrics port, which local trials do not have; "
                        + "use StdOut, File or Push");
                case CUSTOM -> Optional.of("a Custom collector is a sidecar container image, which the local backend cannot run; "
                        + "use StdOut, File or Push");
            };
        }
    }

    enum FileFormat { TEXT, JSON }
}
