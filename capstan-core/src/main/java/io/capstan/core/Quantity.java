package io.capstan.core;

import java.math.BigDecimal;
import java.util.Map;
import java.util.regex.Pattern;

/** Kubernetes resource quantities: {@code 500m} CPUs, {@code 1Gi} or {@code 512M} bytes, plain numbers. */
public final class Quantity {
    private static final Pattern FORMAT = Pattern.compile("([+]?[0-9]+(?:\\.[0-9]*)?(?:[eE][+-]?[0-9]+)?)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?");
    private static final Map<String, BigDecimal> SUFFIX = Map.ofEntries(
            Map.entry("", BigDecimal.ONE),
            Map.entry("m", new BigDecimal("0.001")),
            Map.entry("k", BigDecimal.TEN.pow(3)), Map.entry("M", BigDecimal.TEN.pow(6)),
            Map.entry("G", BigDecimal.TEN.pow(9)), Map.entry("T", BigDecimal.TEN.pow(12)),
            Map.entry("P", BigDecimal.TEN.pow(15)), Map.entry("E", BigDecimal.TEN.pow(18)),
            Map.entry("Ki", BigDecimal.valueOf(1L << 10)), Map.entry("Mi", BigDecimal.valueOf(1L << 20)),
            Map.entry("Gi", BigDecimal.valueOf(1L << 30)), Map.entry("Ti", BigDecimal.valueOf(1L << 40)),
            Map.entry("Pi", BigDecimal.valueOf(1L << 50)), Map.entry("Ei", BigDecimal.valueOf(1L << 60)));

    private Quantity() {
    }

    /**
     * Parses a quantity such as {@code 250m}, {@code 2}, {@code 1.5Gi}.
     *
     * @param path the field path for the error message
     * @throws InvalidSpecException naming the field when the text is not a quantity
     */
    public static BigDecimal parse(String path, String text) {
        var m = FORMAT.matcher(text == null ? "" : text.trim());
        if (!m.matches()) {
            throw InvalidSpecException.of(path, "'" + Names.printable(String.valueOf(text))
                    + "' is not a quantity; write a number with an optional suffix such as 500m, 2, 512Mi or 1Gi");
        }
        return new BigDecimal(m.group(1)).multiply(SUFFIX.get(m.group(2) == null ? "" : m.group(2)));
    }

    public static double cpus(String path, String text) {
        return parse(path, text).doubleValue();
    }

    public static long bytes(String path, String text) {
        var value = parse(path, text);
        if (value.compareTo(BigDecimal.valueOf(Long.MAX_VALUE)) > 0) throw InvalidSpecException.of(path, "quantity '" + text + "' is too large");
        return value.setScale(0, java.math.RoundingMode.CEILING).longValueExact();
    }
}
