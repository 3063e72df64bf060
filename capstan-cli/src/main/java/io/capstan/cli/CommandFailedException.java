package io.capstan.cli;

import io.capstan.core.CapstanException;

/** The command ran but did not achieve its aim, such as a server that failed to start; exit code 1. */
final class CommandFailedException extends CapstanException {
    CommandFailedException(String message) {
        super(message);
    }

    CommandFailedException(String message, Throwable cause) {
        super(message, cause);
    }
}
