package io.capstan.cli;

import io.capstan.core.CapstanException;

/** The command line names something that cannot work, such as an unknown resource type; exit code 2. */
final class UsageException extends CapstanException {
    UsageException(String message) {
        super(message);
    }
}
