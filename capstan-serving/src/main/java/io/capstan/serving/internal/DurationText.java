package io.capstan.serving.internal;

import io.capstan.core.Problems;
import java.time.Duration;
import java.util.Optional;
import java.util.regex.Pattern;

/** Durations as annotations write them: "500ms", "30s", "5m", "1h", or bare seconds. */
final class DurationText {
    private static final Pattern FORM = Pattern.compile("(\\d{1,9})(ms|s|m|h)?");

    private DurationText() {
    }

    static Optional<Duration> parse(String text, Problems problems) {
        var m = FORM.matcher(text.strip());
        if (!m.matches()) {
            problems.add("", "'" + text + "' is not a duration");
            return Optional.empty();
        }
        long value = Long.parseLong(m.group(1));
        var unit = m.group(2) == null ? "s" : m.group(2);
        return Optional.of(switch (unit) {
            case "ms" -> Duration.ofMillis(value);
            case "m" -> Duration.ofMinutes(value);
            case "h" -> Duration.ofHours(value);
            default -> Duration.ofSeconds(value);
        });
    }
}
