package io.capstan.serving.runtime;

import java.util.Locale;
import java.util.Objects;

/**
 * A model format a runtime serves, as in a ServingRuntime's {@code supportedModelFormats}.
 *
 * @param version the format's version, or null for any
 * @param autoSelect whether the runtime may be picked for a model that names no runtime
 * @param priority higher wins among auto-selectable runtimes; 0 when unset
 */
public record SupportedFormat(String name, String version, boolean autoSelect, int priority) {
    public SupportedFormat {
        Objects.requireNonNull(name, "name");
        name = name.toLowerCase(Locale.ROOT);
    }

    public static SupportedFormat of(String name) {
        return new SupportedFormat(name, null, true, 1);
    }

    /** Whether this entry serves the format {@code formatName} at {@code formatVersion} (null: any version). */
    public boolean matches(String formatName, String formatVersion) {
        if (!name.equals(formatName.toLowerCase(Locale.ROOT))) {
            return false;
        }
        return version == null || formatVersion == null || formatVersion.equals(version)
                || formatVersion.startsWith(version + ".");
    }
}
