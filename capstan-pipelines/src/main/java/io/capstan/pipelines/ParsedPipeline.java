package io.capstan.pipelines;

import io.capstan.core.FieldError;
import io.capstan.core.LocatedDocument;
import java.util.List;
import java.util.Objects;

/**
 * A parsed, not yet validated, pipeline: the spec, its platform spec, the warnings found while reading, and the
 * source document so that later checks can name lines.
 */
public record ParsedPipeline(PipelineSpec spec, PlatformSpec platform, List<PipelineWarning> warnings, LocatedDocument document) {
    public ParsedPipeline {
        Objects.requireNonNull(spec, "spec");
        Objects.requireNonNull(platform, "platform");
        warnings = List.copyOf(warnings);
        Objects.requireNonNull(document, "document");
    }

    /** Places a path-only error on its line in the source. */
    FieldError locate(FieldError error) {
        return document.locate(error);
    }
}
