package io.capstan.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

import java.io.Console;
import java.io.InputStream;
import java.lang.reflect.Method;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.function.BooleanSupplier;

/**
 * The {@code capstan} command. It holds what the verbs take from the outside world (environment, clock, standard
 * input, whether a person is at a terminal) so that tests can replace each of them.
 */
@Command(name = "capstan",
        mixinStandardHelpOptions = true,
        versionProvider = Version.Provider.class,
        description = "Kubeflow's ML lifecycle on the JVM: run a Capstan server and manage its resources.",
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {
                ExitCodes.OK + ":ok",
                ExitCodes.FAILURE + ":failure, such as a job that failed",
                ExitCodes.USAGE + ":usage error: unknown option, missing argument, unknown resource type",
                ExitCodes.NOT_FOUND + ":not found",
                ExitCodes.CONFLICT + ":conflict: the resource changed meanwhile or already exists",
                ExitCodes.INVALID_INPUT + ":invalid input: a document, file or value was refused",
                ExitCodes.UNREACHABLE + ":server unreachable or not ready",
        },
        footerHeading = "%nEnvironment:%n",
        footer = {
                "  CAPSTAN_SERVER   server URL of client commands (default " + CapstanClient.DEFAULT_URL + ")",
                "  CAPSTAN_HOME     data folder of server and quickstart (default ~/.capstan)",
                "  CAPSTAN_TOKEN    API token of client commands (default: a local server's $CAPSTAN_HOME/token)",
                "  CAPSTAN_PORT, CAPSTAN_GRPC_PORT, CAPSTAN_DB_URL, CAPSTAN_ALLOWED_HOSTS, CAPSTAN_OIDC_ISSUER",
                "                   server settings; flags override them",
        })
public final class Capstan implements Callable<Integer> {
    /** The verbs, in the order the usage help lists them. */
    private static final List<Class<?>> VERBS = List.of(
            QuickstartCommand.class,
            ServerCommand.class,
            ApplyCommand.class,
            RenderCommand.class,
            GetCommand.class,
            DescribeCommand.class,
            DeleteCommand.class,
            RunCommand.class,
            TrainCommand.class,
            TuneCommand.class,
            ServeCommand.class,
            ModelServerCommand.class,
            PredictCommand.class,
            LogsCommand.class,
            RunsCommand.class,
            PipelinesCommand.class,
            ExperimentsCommand.class,
            ModelsCommand.class,
            NotebooksCommand.class,
            TokensCommand.class,
            AuditCommand.class,
            ImagesCommand.class,
            SloCommand.class,
            VersionCommand.class,
            StepIoCommand.class,
            CommandLine.HelpCommand.class);

    private final Map<String, String> env;
    private final Clock clock;
    private final InputStream stdin;
    private final BooleanSupplier interactive;

    @Spec
    private CommandSpec spec;

    Capstan(Map<String, String> env, Clock clock, InputStream stdin, BooleanSupplier interactive) {
        this.env = Map.copyOf(env);
        this.clock = Objects.requireNonNull(clock, "clock");
        this.stdin = Objects.requireNonNull(stdin, "stdin");
        this.interactive = Objects.requireNonNull(interactive, "interactive");
    }

    public static void main(String[] args) {
        configureLogging();
        var commandLine = commandLine(new Capstan(System.getenv(), Clock.systemUTC(), System.in, Capstan::isTerminal), args);
        int exitCode = commandLine.execute(args);
        // picocli's writers flush only on println: a table printed with print() would be lost at exit.
        commandLine.getOut().flush();
        commandLine.getErr().flush();
        System.exit(exitCode);
    }

    /** One-line log records, quiet libraries; a user's own {@code java.util.logging.config.file} wins. */
    private static void configureLogging() {
        if (System.getProperty("java.util.logging.config.file") != null) return;
        try (var in = Capstan.class.getResourceAsStream("logging.properties")) {
            if (in != null) java.util.logging.LogManager.getLogManager().readConfiguration(in);
        } catch (java.io.IOException e) {
            System.err.println("warning: could not read the logging configuration: " + e.getMessage());
        }
    }

    /** The configured command line with every verb: error reporting, exit codes and case-insensitive enum values. */
    static CommandLine commandLine(Capstan root) {
        return commandLine(root, VERBS);
    }

    /**
     * The command line for {@code args}: with only the verb that {@code args} starts with, where it names one (other
     * than {@code help}, which needs them all), else with every verb. Picocli reads each verb's options by reflection
     * when it is added, and reading all of them took a third of a second of {@code capstan server}'s start-up.
     */
    static CommandLine commandLine(Capstan root, String[] args) {
        if (args.length > 0) {
            for (var verb : VERBS) {
                if (verb != CommandLine.HelpCommand.class && verb.getAnnotation(Command.class).name().equals(args[0])) {
                    return commandLine(root, List.of(verb));
                }
            }
        }
        return commandLine(root);
    }

    private static CommandLine commandLine(Capstan root, List<Class<?>> verbs) {
        var reporter = new ErrorReporter();
        var commandLine = new CommandLine(root);
        verbs.forEach(commandLine::addSubcommand);
        return commandLine
                .setCaseInsensitiveEnumValuesAllowed(true)
                .setExitCodeExceptionMapper(new ExitCodes())
                .setExecutionExceptionHandler(reporter)
                .setParameterExceptionHandler(reporter);
    }

    @Override
    public Integer call() {
        // "capstan" alone: show what it can do, and count it as a usage error so scripts notice.
        spec.commandLine().usage(spec.commandLine().getErr());
        return ExitCodes.USAGE;
    }

    Map<String, String> env() {
        return env;
    }

    Clock clock() {
        return clock;
    }

    InputStream stdin() {
        return stdin;
    }

    /** Whether a person is likely watching: standard input and output are a terminal and {@code CI} is not set. */
    boolean isInteractive() {
        var ci = env.getOrDefault("CI", "");
        if (!ci.isBlank() && !ci.equalsIgnoreCase("false")) return false;
        return interactive.getAsBoolean();
    }

    private static boolean isTerminal() {
        Console console = System.console();
        if (console == null) return false;
        // From JDK 22 System.console() exists even when redirected, and isTerminal() tells; we compile for 21.
        try {
            Method isTerminal = Console.class.getMethod("isTerminal");
            return (Boolean) isTerminal.invoke(console);
        } catch (NoSuchMethodException e) {
            return true;
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("Console.isTerminal() failed", e);
        }
    }
}
