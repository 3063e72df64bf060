/**
 * Lineage in ML Metadata's (MLMD) model. {@link io.capstan.metadata.MetadataStore} stores types, artifacts,
 * executions and contexts (records validated on construction), the events that say which execution read or wrote
 * which artifact, and the attributions, associations and parent links of contexts; its
 * {@link io.capstan.metadata.MetadataStore#lineage lineage} query walks the artifact-execution graph in one
 * recursive SQL query. Tables live in the module's own Flyway migrations under {@code db/migration/metadata}.
 */
package io.capstan.metadata;
