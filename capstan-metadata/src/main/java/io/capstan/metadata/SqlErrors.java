package io.capstan.metadata;

import io.capstan.core.ConflictException;
import java.sql.SQLException;
import java.util.function.Supplier;
import org.jdbi.v3.core.statement.StatementException;

/** Turns constraint violations that a pre-check could miss (concurrent writers) into Capstan exceptions. */
final class SqlErrors {
    private static final String UNIQUE_VIOLATION = "23505";

    private SqlErrors() {
    }

    /** Runs {@code write}; a unique-constraint violation becomes a {@link ConflictException} with {@code message}. */
    static <T> T unique(Supplier<T> write, Supplier<String> message) {
        try {
            return write.get();
        } catch (StatementException e) {
            if (isUniqueViolation(e)) {
                var conflict = new ConflictException(message.get());
                conflict.initCause(e);
                throw conflict;
            }
            throw e;
        }
    }

    private static boolean isUniqueViolation(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof SQLException sql && UNIQUE_VIOLATION.equals(sql.getSQLState())) return true;
        }
        return false;
    }
}
