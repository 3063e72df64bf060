package io.capstan.pipelines.run;

import io.capstan.artifacts.S3ArtifactStore;
import io.capstan.core.CapstanConfig;
import io.capstan.core.InvalidSpecException;
import io.capstan.core.Names;
import io.capstan.core.TransientException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;

/**
 * What {@code capstan step-io} does in a pipeline step's pod on Kubernetes: {@code pull} brings the attempt folder
 * from its {@link StepStage} before the step runs; {@code push} (with {@code await}, after the step's exit code
 * appears in {@value #EXIT_FILE}, and only where it is 0) sends back what the step wrote. Reads
 * {@value StepStage#STAGE_ENV}, {@value StepStage#DIR_ENV} and the {@code CAPSTAN_S3_*} settings from {@code env}.
 */
public final class StepLauncher {
    /** Where the step's container leaves its exit code, in the attempt folder. */
    public static final String EXIT_FILE = ".capstan-exit";
    private static final Duration POLL = Duration.ofMillis(200);

    private StepLauncher() {
    }

    /**
     * Runs {@code action} and says what it did, in one line.
     *
     * @throws InvalidSpecException naming the variable that is missing or wrong
     */
    public static String run(String action, boolean await, Map<String, String> env, Clock clock) throws InterruptedException {
        if (!action.equals("pull") && !action.equals("push")) throw InvalidSpecException.of("action", "'" + Names.printable(action) + "': expected pull or push");
        var stage = required(env, StepStage.STAGE_ENV);
        var bucket = StepStage.bucketOf(stage);
        var dir = Path.of(required(env, StepStage.DIR_ENV));
        if (!dir.isAbsolute()) throw InvalidSpecException.of(StepStage.DIR_ENV, "must be an absolute folder, got '" + Names.printable(dir.toString()) + "'");
        var s3 = CapstanConfig.fromEnvironment(env).s3().orElseThrow(() -> InvalidSpecException.of("CAPSTAN_S3_BUCKET",
                "required: the step's stage is in S3; set CAPSTAN_S3_BUCKET, CAPSTAN_S3_ENDPOINT, CAPSTAN_S3_ACCESS_KEY and CAPSTAN_S3_SECRET_KEY"));
        if (action.equals("push") && await) {
            var exit = dir.resolve(EXIT_FILE);
            while (!Files.isRegularFile(exit)) Thread.sleep(POLL.toMillis());
            String code;
            try {
                code = Files.readString(exit).strip();
            } catch (IOException e) {
                throw new TransientException("cannot read the step's exit code in " + exit + ": " + e.getMessage(), e);
            }
            if (!code.equals("0")) return "the step exited with code " + code + "; nothing pushed";
        }
        try (var store = new S3ArtifactStore(s3, clock)) {
            var st = StepStage.at(store.inBucket(bucket), stage);
            if (action.equals("pull")) {
                st.pull(dir);
                return "pulled " + stage + " into " + dir;
            }
            st.pushOutputs(dir);
            return "pushed " + dir + " to " + stage;
        }
    }

    private static String required(Map<String, String> env, String name) {
        var value = env.get(name);
        if (value == null || value.isBlank()) throw InvalidSpecException.of(name, "required: the step's pod sets it");
        return value;
    }
}
