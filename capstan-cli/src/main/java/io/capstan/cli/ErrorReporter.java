package io.capstan.cli;

import picocli.CommandLine;

import java.io.PrintWriter;

/**
 * Prints failures as the user should see them: one sentence on stderr, a stack trace only under {@code --verbose},
 * and the exit code from {@link ExitCodes}.
 */
final class ErrorReporter implements CommandLine.IExecutionExceptionHandler, CommandLine.IParameterExceptionHandler {
    static final String VERBOSE = "--verbose";

    @Override
    public int handleExecutionException(Exception failure, CommandLine command, CommandLine.ParseResult parseResult) {
        var err = command.getErr();
        err.println("error: " + message(failure));
        if (isVerbose(parseResult)) {
            failure.printStackTrace(err);
        } else if (ExitCodes.of(failure) == ExitCodes.FAILURE && !(failure instanceof io.capstan.core.CapstanException)) {
            err.println("Run again with --verbose to see where it failed.");
        }
        err.flush();
        return command.getExitCodeExceptionMapper() != null
                ? command.getExitCodeExceptionMapper().getExitCode(failure)
                : ExitCodes.of(failure);
    }

    @Override
    public int handleParseException(CommandLine.ParameterException failure, String[] args) {
        var command = failure.getCommandLine();
        PrintWriter err = command.getErr();
        err.println("error: " + failure.getMessage());
        CommandLine.UnmatchedArgumentException.printSuggestions(failure, err);
        err.println("See '" + command.getCommandSpec().qualifiedName() + " --help'.");
        err.flush();
        return ExitCodes.USAGE;
    }

    /** The message of an exception, or for a bug without one, its type. */
    static String message(Throwable failure) {
        if (failure instanceof CommandLine.ExecutionException && failure.getCause() != null) failure = failure.getCause();
        var m = failure.getMessage();
        if (m == null || m.isBlank()) return "unexpected " + failure.getClass().getName();
        if (failure instanceof io.capstan.core.CapstanException) return m;
        // A JDK or library exception is a bug or an environment problem: name its type so it can be looked up.
        return m + " (" + failure.getClass().getSimpleName() + ")";
    }

    private static boolean isVerbose(CommandLine.ParseResult parseResult) {
        for (var r = parseResult; r != null; r = r.subcommand()) {
            if (r.hasMatchedOption(VERBOSE)) return true;
        }
        return false;
    }
}
