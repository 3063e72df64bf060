package io.capstan.registry;

/** An error the API answers with its status and Model Registry's {@code {code, message}} body. */
final class RegistryException extends RuntimeException {
    final int status;

    RegistryException(int status, String message) {
        super(message);
        this.status = status;
    }

    static RegistryException badRequest(String message) {
        return new RegistryException(400, message);
    }

    static RegistryException notFound(String message) {
        return new RegistryException(404, message);
    }

    static RegistryException conflict(String message) {
        return new RegistryException(409, message);
    }

    static RegistryException unprocessable(String message) {
        return new RegistryException(422, message);
    }
}
