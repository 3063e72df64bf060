package io.capstan.kfpruntime;

import java.io.File;
import java.io.IOException;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/**
 * Whether this machine's Python can import a package, found by running {@code python3 -c "import X"} as a child
 * process. Answers are cached per instance (a timed-out or failed start is not cached). Thread-safe; each uncached
 * answer blocks for at most the deadline.
 */
public final class PythonImports {
    private static final Pattern MODULE = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z_][A-Za-z0-9_]*)*");
    private static final String IMPORT = "import importlib, sys; importlib.import_module(sys.argv[1])";
    /** Project names whose import name differs from the name with dashes turned into underscores. */
    private static final Map<String, String> MODULES = Map.ofEntries(
            Map.entry("scikit-learn", "sklearn"),
            Map.entry("sklearn", "sklearn"),
            Map.entry("scikit-image", "skimage"),
            Map.entry("pillow", "PIL"),
            Map.entry("pil", "PIL"),
            Map.entry("pyyaml", "yaml"),
            Map.entry("opencv-python", "cv2"),
            Map.entry("opencv-python-headless", "cv2"),
            Map.entry("opencv-contrib-python", "cv2"),
            Map.entry("opencv-contrib-python-headless", "cv2"),
            Map.entry("beautifulsoup4", "bs4"),
            Map.entry("python-dateutil", "dateutil"),
            Map.entry("protobuf", "google.protobuf"),
            Map.entry("google-cloud-storage", "google.cloud.storage"),
            Map.entry("google-cloud-aiplatform", "google.cloud.aiplatform"),
            Map.entry("google-cloud-bigquery", "google.cloud.bigquery"),
            Map.entry("tensorflow-cpu", "tensorflow"),
            Map.entry("tensorflow-gpu", "tensorflow"),
            Map.entry("pytorch", "torch"),
            Map.entry("pyjwt", "jwt"),
            Map.entry("python-dotenv", "dotenv"),
            Map.entry("psycopg2-binary", "psycopg2"),
            Map.entry("psycopg-binary", "psycopg"),
            Map.entry("mysql-connector-python", "mysql.connector"),
            Map.entry("pymysql", "pymysql"),
            Map.entry("attrs", "attr"),
            Map.entry("msgpack-python", "msgpack"),
            Map.entry("typing-extensions", "typing_extensions"),
            Map.entry("ruamel-yaml", "ruamel.yaml"),
            Map.entry("pyzmq", "zmq"),
            Map.entry("pycryptodome", "Crypto"),
            Map.entry("pyopenssl", "OpenSSL"),
            Map.entry("python-multipart", "multipart"),
            Map.entry("lxml-html-clean", "lxml_html_clean"),
            Map.entry("setuptools", "setuptools"),
            Map.entry("kfp-kubernetes", "kfp.kubernetes"),
            Map.entry("kfp-pipeline-spec", "kfp.pipeline_spec"),
            Map.entry("kfp-server-api", "kfp_server_api"),
            Map.entry("codeflare-sdk", "codeflare_sdk"),
            Map.entry("jupyter-client", "jupyter_client"),
            Map.entry("google-cloud-pipeline-components", "google_cloud_pipeline_components"));

    private final String python;
    private final Duration deadline;
    private final Map<String, Boolean> cache = new ConcurrentHashMap<>();

    private PythonImports(String python, Duration deadline) {
        this.python = python;
        this.deadline = deadline;
    }

    /** Checks with {@code python3} from {@code PATH}, allowing 20 seconds per import. */
    public static PythonImports create() {
        return create("python3", Duration.ofSeconds(20));
    }

    /**
     * @param python the interpreter to ask, a name on {@code PATH} or a path
     * @param deadline how long one import may take; a slower one counts as not importable
     */
    public static PythonImports create(String python, Duration deadline) {
        Objects.requireNonNull(python, "python");
        Objects.requireNonNull(deadline, "deadline");
        if (python.isBlank()) {
            throw new IllegalArgumentException("python must name an interpreter");
        }
        if (!deadline.isPositive()) {
            throw new IllegalArgumentException("deadline must be > 0, got " + deadline);
        }
        return new PythonImports(python, deadline);
    }

    /**
     * The module to import for a project name: {@code scikit-learn} gives {@code sklearn}, {@code pillow} gives
     * {@code PIL}, {@code pyyaml} gives {@code yaml}; a name not in the table is lower-cased with dashes turned into
     * underscores.
     */
    public static String moduleName(String project) {
        Objects.requireNonNull(project, "project");
        var key = project.strip().toLowerCase(Locale.ROOT).replace('_', '-');
        var known = MODULES.get(key);
        return known != null ? known : key.replace('-', '_');
    }

    /**
     * Whether {@code python3 -c "import X"} succeeds within the deadline, for {@code X = moduleName(name)}. A name
     * that cannot be a module (after mapping) is never importable. Blocks while the child process runs.
     */
    public boolean isImportable(String name) {
        Objects.requireNonNull(name, "name");
        var module = moduleName(name);
        if (!MODULE.matcher(module).matches()) {
            return false;
        }
        var cached = cache.get(module);
        if (cached != null) {
            return cached;
        }
        var answer = tryImport(module);
        if (answer != null) {
            cache.putIfAbsent(module, answer);
            return answer;
        }
        return false;
    }

    /** True or false when Python answered; null when it could not start, timed out or was interrupted. */
    private Boolean tryImport(String module) {
        Process process;
        try {
            process = new ProcessBuilder(python, "-c", IMPORT, module)
                    .redirectInput(ProcessBuilder.Redirect.from(nullFile()))
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .redirectError(ProcessBuilder.Redirect.DISCARD)
                    .start();
        } catch (IOException e) {
            return null; // no interpreter: nothing is importable, but it may be installed later
        }
        try {
            if (process.waitFor(deadline.toMillis(), TimeUnit.MILLISECONDS)) {
                return process.exitValue() == 0;
            }
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        } finally {
            if (process.isAlive()) {
                process.descendants().forEach(ProcessHandle::destroyForcibly);
                process.destroyForcibly();
            }
        }
    }

    private static File nullFile() {
        return new File(System.getProperty("os.name").startsWith("Windows") ? "NUL" : "/dev/null");
    }
}
