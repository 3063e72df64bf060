package io.capstan.kubernetes;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * Capstan's labels and annotations on the objects it creates, and the names it gives them. These are a stable
 * contract: dashboards, NetworkPolicies and re-adoption after a restart select by them, so never rename one.
 */
public final class CapstanLabels {
    /** On every object Capstan creates; re-adoption lists by it. */
    public static final String MANAGED_BY = "app.kubernetes.io/managed-by";
    public static final String MANAGED_BY_VALUE = "capstan";
    /** The workload id where it fits a label value (63 characters); else {@link #label} of it. */
    public static final String WORKLOAD_ID = "capstan.io/workload-id";
    /** The full workload id, always: an annotation, since ids may be up to 200 characters. */
    public static final String WORKLOAD_ID_ANNOTATION = "capstan.io/workload-id";
    public static final String OWNER_KIND = "capstan.io/owner-kind";
    public static final String OWNER_NAME = "capstan.io/owner-name";
    public static final String RUN = "capstan.io/run";
    public static final String TASK = "capstan.io/task";
    public static final String ATTEMPT = "capstan.io/attempt";
    /** Members of one gang (a training job's pods) share this value. */
    public static final String GANG = "capstan.io/gang";
    /** How many members the gang has, on each member: what a replica that adopts them counts against. */
    public static final String GANG_SIZE_ANNOTATION = "capstan.io/gang-size";
    /**
     * On an Indexed Job that runs several workloads, one per completion index (a TrainJob's nodes), and on its pods:
     * the workload ids in index order, comma-separated. A pod's workload is the one at its completion index.
     */
    public static final String WORKLOAD_IDS_ANNOTATION = "capstan.io/workload-ids";
    /** On the pods of such a Job, so that they can be listed and deleted without garbage collection. */
    public static final String INDEXED_JOB = "capstan.io/indexed-job";
    /** Set by the Job controller on each pod of an Indexed Job. */
    public static final String COMPLETION_INDEX = "batch.kubernetes.io/job-completion-index";

    private static final Pattern LABEL_VALUE = Pattern.compile("([A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?)?");
    private static final Pattern DNS_LABEL = Pattern.compile("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?");

    private CapstanLabels() {
    }

    /** {@code value} itself where it is a valid label value, else a readable prefix and a hash of it. */
    public static String label(String value) {
        if (LABEL_VALUE.matcher(value).matches()) return value;
        var cleaned = value.replaceAll("[^A-Za-z0-9._-]", "-");
        return trimmed(cleaned, 63 - 9) + "-" + hash(value);
    }

    /**
     * A DNS-1123 label (lower case, digits and '-', at most 63 characters) for an object named after {@code id}:
     * the id itself where it already is one, else a readable prefix and a hash of the id, so that two ids never
     * share a name.
     */
    public static String objectName(String id) {
        if (DNS_LABEL.matcher(id).matches()) return id;
        var cleaned = id.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9-]", "-");
        var prefix = trimmed(cleaned, 63 - 9);
        return (prefix.isEmpty() ? "w" : prefix) + "-" + hash(id);
    }

    public static boolean isDnsLabel(String name) {
        return DNS_LABEL.matcher(name).matches();
    }

    private static String trimmed(String s, int max) {
        var t = s.length() > max ? s.substring(0, max) : s;
        int start = 0, end = t.length();
        while (start < end && !Character.isLetterOrDigit(t.charAt(start))) start++;
        while (end > start && !Character.isLetterOrDigit(t.charAt(end - 1))) end--;
        return t.substring(start, end);
    }

    private static String hash(String value) {
        try {
            var digest = MessageDigest.getInstance("SHA-256").digest(value.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest, 0, 4);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
