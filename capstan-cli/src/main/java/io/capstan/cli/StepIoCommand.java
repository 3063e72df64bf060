package io.capstan.cli;

import io.capstan.artifacts.S3ArtifactStore;
import io.capstan.core.CapstanConfig;
import io.capstan.pipelines.run.StepStage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * The launcher of a pipeline step's pod on Kubernetes (see {@code PipelineStepPod}): {@code pull} brings the step's
 * attempt folder from its S3 stage before the step runs; {@code push --wait} waits for the step's exit code and, where
 * it is 0, pushes what the step wrote. Reads {@value StepStage#STAGE_ENV}, {@value StepStage#DIR_ENV} and the
 * {@code CAPSTAN_S3_*} settings from its environment. Not for people: hidden from help.
 */
@Command(name = "step-io", hidden = true, mixinStandardHelpOptions = true, versionProvider = Version.Provider.class,
        description = "Inside a pipeline step's pod: pull the step's folder from S3 before it runs, or push its outputs after.")
final class StepIoCommand implements Callable<Integer> {
    static final String EXIT_FILE = ".capstan-exit";
    private static final Duration POLL = Duration.ofMillis(200);

    @ParentCommand
    Capstan root;

    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "pull|push", description = "pull the step's inputs, or push its outputs")
    private String action;

    @Option(names = "--wait", description = "push: first wait for the step's exit code in " + EXIT_FILE + "; push nothing unless it is 0")
    private boolean await;

    @Override
    public Integer call() throws InterruptedException {
        var env = root.env();
        var stage = required(env.get(StepStage.STAGE_ENV), StepStage.STAGE_ENV);
        var dir = Path.of(required(env.get(StepStage.DIR_ENV), StepStage.DIR_ENV));
        if (!action.equals("pull") && !action.equals("push")) throw new UsageException("step-io " + io.capstan.core.Names.printable(action) + ": expected pull or push");
        var s3 = CapstanConfig.fromEnvironment(env).s3()
                .orElseThrow(() -> new UsageException("step-io needs S3: set CAPSTAN_S3_BUCKET, CAPSTAN_S3_ENDPOINT, CAPSTAN_S3_ACCESS_KEY and CAPSTAN_S3_SECRET_KEY"));
        var out = spec.commandLine().getOut();
        if (action.equals("push") && await) {
            var exit = dir.resolve(EXIT_FILE);
            while (!Files.isRegularFile(exit)) Thread.sleep(POLL.toMillis());
            String code;
            try {
                code = Files.readString(exit).strip();
            } catch (java.io.IOException e) {
                throw new CommandFailedException("cannot read the step's exit code in " + exit + ": " + e.getMessage(), e);
            }
            if (!code.equals("0")) {
                out.println("the step exited with code " + code + "; nothing pushed");
                out.flush();
                return ExitCodes.OK;
            }
        }
        try (var store = new S3ArtifactStore(s3, root.clock())) {
            var st = StepStage.at(store.inBucket(StepStage.bucketOf(stage)), stage);
            if (action.equals("pull")) st.pull(dir);
            else st.pushOutputs(dir);
        }
        out.println(action + "ed " + stage + (action.equals("pull") ? " into " : " from ") + dir);
        out.flush();
        return ExitCodes.OK;
    }

    private static String required(String value, String name) {
        if (value == null || value.isBlank()) throw new UsageException("step-io needs " + name + ", which the step's pod sets");
        return value;
    }
}
