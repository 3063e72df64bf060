package io.capstan.cli;

import io.capstan.core.CapstanException;

/** No Capstan server answered at the configured URL. */
final class ServerUnreachableException extends CapstanException {
    ServerUnreachableException(String message, Throwable cause) {
        super(message, cause);
    }

    /** The message a user sees when nothing listens at {@code url}; it says how to get a server. */
    static ServerUnreachableException of(String url, String why, Throwable cause) {
        return new ServerUnreachableException("cannot reach the Capstan server at " + url + ": " + why
                + "; start one with `capstan server` or pass --server", cause);
    }
}
