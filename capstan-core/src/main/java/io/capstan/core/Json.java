package io.capstan.core;

import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import org.yaml.snakeyaml.LoaderOptions;

/**
 * The JSON and YAML mappers every module shares. They are configured once here and never changed afterwards,
 * which keeps them safe to share between threads.
 */
public final class Json {
    /** Deepest nesting accepted in any input document; deeper input is refused rather than risking the stack. */
    public static final int MAX_NESTING_DEPTH = 100;
    /** Largest single document accepted by the parsers, in bytes. */
    public static final int MAX_DOCUMENT_BYTES = 4 * 1024 * 1024;

    private static final StreamReadConstraints CONSTRAINTS = StreamReadConstraints.builder()
            .maxNestingDepth(MAX_NESTING_DEPTH)
            .maxStringLength(MAX_DOCUMENT_BYTES)
            .maxNumberLength(100)
            .maxNameLength(1024)
            .build();

    private static final ObjectMapper JSON = configure(JsonMapper.builder().build());
    private static final ObjectMapper YAML = configure(new YAMLMapper(yamlFactory()));

    private Json() {
    }

    public static ObjectMapper json() {
        return JSON;
    }

    public static ObjectMapper yaml() {
        return YAML;
    }

    static YAMLFactory yamlFactory() {
        var loader = new LoaderOptions();
        loader.setMaxAliasesForCollections(20);
        loader.setAllowDuplicateKeys(false);
        loader.setNestingDepthLimit(MAX_NESTING_DEPTH);
        loader.setCodePointLimit(MAX_DOCUMENT_BYTES);
        var factory = YAMLFactory.builder()
                .loaderOptions(loader)
                .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
                .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES)
                .enable(YAMLGenerator.Feature.ALWAYS_QUOTE_NUMBERS_AS_STRINGS)
                .build();
        factory.setStreamReadConstraints(CONSTRAINTS);
        return factory;
    }

    private static ObjectMapper configure(ObjectMapper mapper) {
        mapper.getFactory().setStreamReadConstraints(CONSTRAINTS);
        return mapper.registerModule(new JavaTimeModule())
                .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
                .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                .enable(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY);
    }
}
