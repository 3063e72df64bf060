package io.capstan.core;

import java.util.UUID;

/** Identifier generation; UUIDs as Kubernetes uses for {@code metadata.uid}. */
public final class Ids {
    private Ids() {
    }

    public static String uid() {
        return UUID.randomUUID().toString();
    }
}
