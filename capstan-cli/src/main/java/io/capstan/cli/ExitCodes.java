package io.capstan.cli;

import io.capstan.core.ConflictException;
import io.capstan.core.InvalidSpecException;
import io.capstan.core.NotFoundException;
import picocli.CommandLine;

/**
 * The exit codes of the {@code capstan} command, a documented contract for scripts, and the one place that maps
 * exception types to them. The table is repeated in {@code capstan --help}.
 */
final class ExitCodes implements CommandLine.IExitCodeExceptionMapper {
    /** The command did what was asked. */
    static final int OK = 0;
    /** The command ran but the outcome is a failure, such as a job that failed, or an unexpected error. */
    static final int FAILURE = 1;
    /** The command line is wrong: an unknown option, a missing argument or an unknown resource type. */
    static final int USAGE = 2;
    /** The named resource does not exist (HTTP 404). */
    static final int NOT_FOUND = 3;
    /** The resource changed meanwhile or already exists (HTTP 409). */
    static final int CONFLICT = 4;
    /** The input was refused: an invalid document, a file that cannot be read, a body too large (HTTP 400, 413, 422). */
    static final int INVALID_INPUT = 5;
    /** No Capstan server answers at the URL, or it is not ready (HTTP 503). */
    static final int UNREACHABLE = 6;

    @Override
    public int getExitCode(Throwable failure) {
        return of(failure);
    }

    static int of(Throwable failure) {
        return switch (failure) {
            case ServerUnreachableException e -> UNREACHABLE;
            case ApiException e -> ofStatus(e.status());
            case UsageException e -> USAGE;
            case CommandLine.ParameterException e -> USAGE;
            case NotFoundException e -> NOT_FOUND;
            case ConflictException e -> CONFLICT;
            case InvalidSpecException e -> INVALID_INPUT;
            default -> FAILURE;
        };
    }

    static int ofStatus(int httpStatus) {
        return switch (httpStatus) {
            case 400, 413, 415, 422 -> INVALID_INPUT;
            case 404 -> NOT_FOUND;
            case 409 -> CONFLICT;
            case 503 -> UNREACHABLE;
            default -> FAILURE;
        };
    }
}
