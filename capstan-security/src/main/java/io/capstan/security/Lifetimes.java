package io.capstan.security;

import io.capstan.core.InvalidSpecException;
import io.capstan.core.Names;
import java.time.Duration;
import java.util.regex.Pattern;

/** Lifetimes and look-backs as people type them: {@code 30d}, {@code 12h}, {@code 90m}, {@code 45s}, {@code 2w}. */
public final class Lifetimes {
    private static final Pattern FORM = Pattern.compile("([0-9]{1,6})([smhdw])");
    /** Ten years: longer is a typo, and an instant that far out overflows some databases' timestamps. */
    static final Duration LONGEST = Duration.ofDays(3650);

    private Lifetimes() {
    }

    /** Parses {@code text}; a refusal names {@code field}. */
    public static Duration parse(String field, String text) {
        var m = text == null ? null : FORM.matcher(text.strip());
        if (m == null || !m.matches()) {
            throw InvalidSpecException.of(field, field + " must be a number followed by s, m, h, d or w (such as 30d or 12h), got '"
                    + Names.printable(String.valueOf(text)) + "'");
        }
        long n = Long.parseLong(m.group(1));
        var d = switch (m.group(2)) {
            case "s" -> Duration.ofSeconds(n);
            case "m" -> Duration.ofMinutes(n);
            case "h" -> Duration.ofHours(n);
            case "d" -> Duration.ofDays(n);
            default -> Duration.ofDays(7 * n);
        };
        if (d.isZero()) throw InvalidSpecException.of(field, field + " must be longer than zero, got '" + Names.printable(text) + "'");
        if (d.compareTo(LONGEST) > 0) throw InvalidSpecException.of(field, field + " must be at most 3650d, got '" + Names.printable(text) + "'");
        return d;
    }
}
