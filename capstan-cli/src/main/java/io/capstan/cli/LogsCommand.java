package io.capstan.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.OptionalInt;

@Command(name = "logs", mixinStandardHelpOptions = true, versionProvider = Version.Provider.class,
        description = "Print the output of a job's process; for a training job, of one rank or replica (rank 0 by default).")
final class LogsCommand extends ClientCommand {
    /** The type a bare NAME means, so that {@code capstan logs hello} needs no type lookup. */
    static final ResourceType JOB = new ResourceType("Job", "capstan.io/v1", "jobs", List.of("job"));

    @Parameters(index = "0", paramLabel = "NAME", description = "Job name, or TYPE/NAME such as job/hello.")
    private String target;

    @Mixin
    private NamespaceOptions namespaceOptions;

    @Option(names = {"-f", "--follow"}, description = "Keep printing output until the process ends.")
    private boolean follow;

    @Option(names = "--tail", paramLabel = "N", description = "Print only the last N lines (default: all).")
    private Integer tail;

    @Option(names = "--rank", paramLabel = "N", description = "A training job's process of global rank N.")
    private Integer rank;

    @Option(names = "--replica", paramLabel = "TYPE", description = "A training job's replica type, such as Master, Worker or node; with --index.")
    private String replica;

    @Option(names = "--index", paramLabel = "I", defaultValue = "0", description = "Which replica of --replica's type (default: ${DEFAULT-VALUE}).")
    private int index;

    @Override
    public Integer call() {
        if (tail != null && tail < 0) throw new UsageException("--tail must be 0 or more, got " + tail);
        if (rank != null && rank < 0) throw new UsageException("--rank must be 0 or more, got " + rank);
        if (rank != null && replica != null) throw new UsageException("give --rank or --replica, not both");
        var typed = TypedName.parse(target);
        var client = client();
        var name = typed.name().isEmpty() ? typed.type() : typed.name();
        var select = new LinkedHashMap<String, String>();
        if (rank != null) select.put("rank", Integer.toString(rank));
        if (replica != null) {
            select.put("replica", replica);
            select.put("index", Integer.toString(index));
        }
        var type = !typed.name().isEmpty() ? client.resolve(typed.type())
                : select.isEmpty() ? JOB : trainingJobNamed(client, name);
        var mode = follow ? CapstanClient.LogMode.FOLLOW : CapstanClient.LogMode.SNAPSHOT;
        var tailLines = tail == null ? OptionalInt.empty() : OptionalInt.of(tail);
        var out = out();
        try (var reader = new InputStreamReader(client.openLog(type, namespaceOptions.namespace(), name, tailLines, mode, select),
                StandardCharsets.UTF_8)) {
            var buffer = new char[8192];
            int n;
            while ((n = reader.read(buffer)) >= 0) {
                out.write(buffer, 0, n);
                out.flush();
            }
        } catch (IOException e) {
            throw ServerUnreachableException.of(client.baseUrl(), "the log stream broke (" + CapstanClient.describe(e) + ")", e);
        }
        return ExitCodes.OK;
    }

    /** The training kind that has a job called {@code name}, for {@code capstan logs NAME --rank N}. */
    private ResourceType trainingJobNamed(CapstanClient client, String name) {
        for (var plural : TRAINING_PLURALS) {
            var type = client.types().stream().filter(t -> t.plural().equals(plural)).findFirst();
            if (type.isEmpty()) continue;
            try {
                client.get(type.get(), namespaceOptions.namespace(), name);
                return type.get();
            } catch (ApiException e) {
                if (e.status() != 404) throw e;
            }
        }
        throw new io.capstan.core.NotFoundException("no training job named '" + io.capstan.core.Names.printable(name) + "' in namespace "
                + namespaceOptions.namespace() + "; give TYPE/NAME, such as pytorchjob/" + io.capstan.core.Names.printable(name));
    }

    static final List<String> TRAINING_PLURALS = List.of("trainjobs", "pytorchjobs", "xgboostjobs", "tfjobs", "mpijobs", "paddlejobs", "jaxjobs");
}
