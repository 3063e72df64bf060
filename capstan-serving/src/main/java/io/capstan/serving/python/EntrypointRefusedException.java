package io.capstan.serving.python;

import java.io.IOException;

/** An image without a command that cannot run here: no container engine, or the image cannot be had. */
public final class EntrypointRefusedException extends IOException {
    public EntrypointRefusedException(String message) {
        super(message);
    }
}
