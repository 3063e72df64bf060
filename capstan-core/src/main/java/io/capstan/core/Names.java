package io.capstan.core;

import java.util.Optional;
import java.util.regex.Pattern;

/** Kubernetes naming rules: DNS-1123 labels for namespaces, DNS-1123 subdomains for object names. */
public final class Names {
    private static final Pattern LABEL = Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?");
    private static final Pattern SUBDOMAIN = Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*");
    private static final Pattern LABEL_VALUE = Pattern.compile("(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?");
    private static final Pattern QUALIFIED_NAME = Pattern.compile("([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]");

    private Names() {
    }

    /** Why {@code name} is not a valid DNS-1123 label (namespace), or empty if it is. */
    public static Optional<String> checkLabel(String name) {
        if (name.isEmpty()) return Optional.of("must not be empty");
        if (name.length() > 63) return Optional.of("must be at most 63 characters, got " + name.length());
        if (!LABEL.matcher(name).matches()) return Optional.of(
                "'" + printable(name) + "' is not a DNS-1123 label: use lower-case letters, digits and '-', starting and ending with a letter or digit");
        return Optional.empty();
    }

    /** Why {@code name} is not a valid DNS-1123 subdomain (object name), or empty if it is. */
    public static Optional<String> checkSubdomain(String name) {
        if (name.isEmpty()) return Optional.of("must not be empty");
        if (name.length() > 253) return Optional.of("must be at most 253 characters, got " + name.length());
        if (!SUBDOMAIN.matcher(name).matches()) return Optional.of(
                "'" + printable(name) + "' is not a DNS-1123 subdomain: use lower-case letters, digits, '-' and '.', starting and ending with a letter or digit");
        return Optional.empty();
    }

    /** Why {@code key} is not a valid label key ({@code [prefix/]name}), or empty if it is. */
    public static Optional<String> checkLabelKey(String key) {
        int slash = key.indexOf('/');
        String name = slash < 0 ? key : key.substring(slash + 1);
        if (slash >= 0) {
            var prefix = checkSubdomain(key.substring(0, slash));
            if (prefix.isPresent()) return Optional.of("prefix " + prefix.get());
        }
        if (name.isEmpty() || name.length() > 63 || !QUALIFIED_NAME.matcher(name).matches()) return Optional.of(
                "'" + printable(key) + "' is not a valid label key: at most 63 letters, digits, '-', '_' or '.', starting and ending alphanumeric, with an optional DNS prefix and '/'");
        return Optional.empty();
    }

    /** Why {@code value} is not a valid label value, or empty if it is. */
    public static Optional<String> checkLabelValue(String value) {
        if (value.length() > 63 || !LABEL_VALUE.matcher(value).matches()) return Optional.of(
                "'" + printable(value) + "' is not a valid label value: at most 63 letters, digits, '-', '_' or '.', starting and ending alphanumeric");
        return Optional.empty();
    }

    /** Shortens and escapes hostile input so that it can be echoed in an error message safely. */
    public static String printable(String s) {
        var sb = new StringBuilder();
        s.codePoints().limit(64).forEach(cp -> {
            if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0) || Character.getType(cp) == Character.FORMAT) {
                sb.append(String.format("\\u%04x", cp));
            } else {
                sb.appendCodePoint(cp);
            }
        });
        if (s.codePointCount(0, s.length()) > 64) sb.append("...");
        return sb.toString();
    }
}
