package io.capstan.store;

import io.capstan.core.Resource;
import java.util.List;
import java.util.Optional;

/** One page of a list, in (namespace, name) order, and the token for the next page if there is one. */
public record Page(List<Resource> items, Optional<String> continueToken, long resourceVersion) {
    public Page {
        items = List.copyOf(items);
    }
}
