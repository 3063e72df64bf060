package io.capstan.monitoring.drift;

/** How a feature's values are compared: as numbers, or as labels (numeric codes whose order means nothing). */
public enum FeatureType {
    NUMERIC("numeric"), CATEGORICAL("categorical");

    private final String wire;

    FeatureType(String wire) {
        this.wire = wire;
    }

    public String wireName() {
        return wire;
    }

    public static java.util.Optional<FeatureType> ofWireName(String name) {
        for (var t : values()) if (t.wire.equals(name)) return java.util.Optional.of(t);
        return java.util.Optional.empty();
    }
}
