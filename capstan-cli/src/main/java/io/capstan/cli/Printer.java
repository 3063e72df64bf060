package io.capstan.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.core.util.Separators;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import io.capstan.core.Json;

import java.io.PrintWriter;
import java.io.UncheckedIOException;

/** Writes resources as YAML or JSON, the machine-readable forms of {@code -o}. */
final class Printer {
    private static final ObjectWriter JSON = Json.json().writer(new DefaultPrettyPrinter()
            .withSeparators(Separators.createDefaultInstance().withObjectFieldValueSpacing(Separators.Spacing.AFTER))
            .withArrayIndenter(DefaultIndenter.SYSTEM_LINEFEED_INSTANCE)
            .withObjectIndenter(DefaultIndenter.SYSTEM_LINEFEED_INSTANCE));

    // A string such as resourceVersion "7" must stay a string when the YAML is read back.
    private static final ObjectWriter YAML = Json.yaml().writer().with(YAMLGenerator.Feature.ALWAYS_QUOTE_NUMBERS_AS_STRINGS);

    private Printer() {
    }

    /** Prints one document; YAML documents after the first are separated with {@code ---}. */
    static void print(PrintWriter out, JsonNode node, OutputFormat format, boolean first) {
        out.print(render(node, format, first));
        out.flush();
    }

    static String render(JsonNode node, OutputFormat format, boolean first) {
        try {
            return switch (format) {
                case JSON -> JSON.writeValueAsString(node) + System.lineSeparator();
                case YAML -> (first ? "" : "---" + System.lineSeparator()) + YAML.writeValueAsString(node);
                case TABLE, WIDE -> throw new IllegalArgumentException("render() prints only yaml or json, not " + format);
            };
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException("cannot write a resource as " + format, e);
        }
    }

    static String json(JsonNode node) {
        return render(node, OutputFormat.JSON, true);
    }

    static String yaml(JsonNode node) {
        return render(node, OutputFormat.YAML, true);
    }
}
