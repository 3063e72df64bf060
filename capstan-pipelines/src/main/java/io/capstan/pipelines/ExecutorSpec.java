package io.capstan.pipelines;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Objects;

/** One entry of {@code deploymentSpec.executors}: what actually runs for a leaf component. */
public sealed interface ExecutorSpec permits ExecutorSpec.Container, ExecutorSpec.Importer, ExecutorSpec.Resolver {

    /**
     * {@code container}: a command with arguments, run in its image where a container engine has it (see
     * {@code io.capstan.backend.ContainerOptions}), else on the host.
     * Every string may hold KFP placeholders such as {@code {{$.inputs.parameters['x']}}}.
     */
    record Container(String image, List<String> command, List<String> args, List<EnvVar> env, Resources resources)
            implements ExecutorSpec {
        public Container {
            Objects.requireNonNull(image, "image");
            command = List.copyOf(command);
            args = List.copyOf(args);
            env = List.copyOf(env);
            Objects.requireNonNull(resources, "resources");
        }
    }

    record EnvVar(String name, String value) {
        public EnvVar {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(value, "value");
        }
    }

    /**
     * Resource requests and limits as written, as Kubernetes quantities (the deprecated numeric memory fields, in GB,
     * get the suffix {@code G}); strings because they may be placeholders. Empty means unset.
     */
    record Resources(String cpuLimit, String memoryLimit, String cpuRequest, String memoryRequest,
                     String acceleratorType, String acceleratorCount) {
        public static final Resources NONE = new Resources("", "", "", "", "", "");

        public Resources {
            Objects.requireNonNull(cpuLimit, "cpuLimit");
            Objects.requireNonNull(memoryLimit, "memoryLimit");
            Objects.requireNonNull(cpuRequest, "cpuRequest");
            Objects.requireNonNull(memoryRequest, "memoryRequest");
            Objects.requireNonNull(acceleratorType, "acceleratorType");
            Objects.requireNonNull(acceleratorCount, "acceleratorCount");
        }

        List<String> values() {
            return List.of(cpuLimit, memoryLimit, cpuRequest, memoryRequest, acceleratorType, acceleratorCount);
        }
    }

    /**
     * {@code importer}: registers an existing artifact. The URI is either a constant or the name of one of the
     * component's input parameters ({@code runtimeParameter}); exactly one of the two is non-empty.
     */
    record Importer(String uriConstant, String uriRuntimeParameter, ArtifactType typeSchema, JsonNode metadata, boolean reimport)
            implements ExecutorSpec {
        public Importer {
            Objects.requireNonNull(uriConstant, "uriConstant");
            Objects.requireNonNull(uriRuntimeParameter, "uriRuntimeParameter");
            Objects.requireNonNull(typeSchema, "typeSchema");
            metadata = metadata.deepCopy();
        }
    }

    /** {@code resolver}: queries for existing artifacts; kept as written until the engine implements it. */
    record Resolver(JsonNode raw) implements ExecutorSpec {
        public Resolver {
            raw = raw.deepCopy();
        }
    }
}
