package io.capstan.server.http;

import io.capstan.core.InvalidSpecException;
import io.capstan.core.Names;
import io.helidon.webserver.http.ServerRequest;

/** Reading query parameters, refusing bad values with a 400 that names the parameter. */
public final class QueryParams {
    private QueryParams() {
    }

    /** The integer parameter {@code name}, {@code fallback} when absent or empty, refused outside {@code min..max}. */
    public static int intParam(ServerRequest req, String name, int fallback, int min, int max) {
        var v = req.query().first(name);
        if (v.isEmpty() || v.get().isBlank()) return fallback;
        try {
            int n = Integer.parseInt(v.get().trim());
            if (n < min || n > max) throw new NumberFormatException();
            return n;
        } catch (NumberFormatException e) {
            throw InvalidSpecException.of(name, name + " must be an integer from " + min + " to " + max
                    + ", got '" + Names.printable(v.get()) + "'");
        }
    }
}
