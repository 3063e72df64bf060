package io.capstan.serving.python;

import io.capstan.serving.runtime.LoadedModel;
import io.capstan.serving.runtime.ModelLoadException;
import io.capstan.serving.runtime.ModelRuntime;
import io.capstan.serving.runtime.ModelSource;
import io.capstan.serving.runtime.SupportedFormat;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * scikit-learn models ({@code modelFormat: sklearn}, joblib or pickle), served as KServe's sklearnserver serves them
 * by Capstan's Python {@code sklearnserver} in a supervised process on Debian's python3-sklearn. The model source's
 * {@code env.*} parameters become the process's environment ({@code PREDICT_PROBA=true} answers {@code predict_proba}).
 */
public final class SklearnModelRuntime implements ModelRuntime {
    public static final String NAME = "capstan-sklearn";
    /** The prefix of {@link ModelSource#parameters()} entries that are environment variables of the process. */
    public static final String ENV_PREFIX = "env.";

    private final ModelProcesses processes;
    private final Duration callTimeout;

    public SklearnModelRuntime(ModelProcesses processes, Duration callTimeout) {
        this.processes = processes;
        this.callTimeout = callTimeout;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public List<SupportedFormat> supportedFormats() {
        return List.of(new SupportedFormat("sklearn", null, true, 1));
    }

    @Override
    public LoadedModel load(ModelSource source) throws ModelLoadException {
        var env = new java.util.HashMap<String, String>();
        for (Map.Entry<String, String> e : source.parameters().entrySet()) {
            if (e.getKey().startsWith(ENV_PREFIX)) env.put(e.getKey().substring(ENV_PREFIX.length()), e.getValue());
        }
        var command = new ArrayList<>(List.of(PythonInterpreter.command(), "-m", "sklearnserver",
                "--model_dir", source.path().toAbsolutePath().toString(), "--model_name", source.modelName(), "--http_port", "{port}"));
        var launch = new ModelProcesses.Launch(source.modelName() + "-sklearn", null, command, env, source.path(),
                source.modelName(), null);
        return processes.start(launch, "sklearn", callTimeout);
    }
}
