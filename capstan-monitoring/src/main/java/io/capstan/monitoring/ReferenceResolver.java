package io.capstan.monitoring;

import java.net.URI;

/**
 * What a ModelMonitor's {@code spec.reference.uri} names when it is not a file or an object in a store, resolved by
 * modules monitoring does not depend on (the server wires them): {@code mlmd://artifacts/ID}, an ML Metadata artifact
 * such as a pipeline run's output dataset, and {@code registry-dataset://NAME_OR_ID}, a DataSet artifact of the model
 * registry of the monitor's namespace. {@link #NONE} resolves neither.
 */
public interface ReferenceResolver {
    ReferenceResolver NONE = (namespace, uri) -> {
        throw new IllegalArgumentException("this server cannot resolve " + uri.getScheme() + ":// references");
    };

    /**
     * The artifact URI ({@code file://}, {@code s3://} or {@code capstan://}) where the dataset {@code uri} names is stored.
     *
     * @throws IllegalArgumentException naming what is missing: the artifact, or its URI
     */
    String resolve(String namespace, URI uri);
}
