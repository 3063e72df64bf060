package io.capstan.pipelines;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import io.capstan.core.Json;
import io.capstan.core.Names;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Checks the KFP placeholders in executor strings ({@code {{$...}}}) and the structured {@code Concat} and
 * {@code IfPresent} placeholders: each must be a form KFP defines and name an input or output the component declares.
 */
final class Placeholders {
    private static final Pattern PLACEHOLDER = Pattern.compile("\\{\\{\\$(.*?)}}", Pattern.DOTALL);
    private static final String NAME = "\\[(?:'(?<%1$s>[^']*)'|\"(?<%1$sq>[^\"]*)\")]";
    private static final Pattern INPUT_PARAMETER = Pattern.compile("\\.inputs\\.parameters" + NAME.formatted("n"));
    private static final Pattern INPUT_ARTIFACT = Pattern.compile("\\.inputs\\.artifacts" + NAME.formatted("n")
            + "(?:\\.(?:uri|path|value)|\\.metadata(?:" + NAME.formatted("k") + ")?)?");
    private static final Pattern OUTPUT_PARAMETER = Pattern.compile("\\.outputs\\.parameters" + NAME.formatted("n") + "\\.output_file");
    private static final Pattern OUTPUT_ARTIFACT = Pattern.compile("\\.outputs\\.artifacts" + NAME.formatted("n")
            + "(?:\\.(?:uri|path)|\\.metadata(?:" + NAME.formatted("k") + ")?)?");
    /** Run-level placeholders: those of {@code kfp.dsl}, the workspace, and the Vertex-only ones the SDK also emits. */
    static final Set<String> PIPELINE_LEVEL = Set.of(
            ".pipeline_job_name", ".pipeline_job_resource_name", ".pipeline_job_uuid", ".pipeline_task_name",
            ".pipeline_task_uuid", ".pipeline_root", ".pipeline_job_create_time_utc", ".pipeline_job_schedule_time_utc",
            ".outputs.output_file", ".workspace_path", ".pipeline_google_cloud_project_id",
            ".pipeline_google_cloud_location", ".pipeline_persistent_resource_id");

    private Placeholders() {
    }

    /**
     * The problems with the placeholders in {@code value}, checked against the interface of the component that
     * runs it; empty if there are none.
     */
    static List<String> check(String value, ComponentSpec component, Set<String> passedParameters) {
        var problems = new ArrayList<String>();
        var stripped = value.strip();
        if (stripped.startsWith("{\"Concat\"") || stripped.startsWith("{\"IfPresent\"")) {
            checkStructured(stripped, component, problems);
        }
        Matcher m = PLACEHOLDER.matcher(value);
        while (m.find()) {
            checkOne(m.group(1), component, passedParameters, problems);
        }
        if (problems.isEmpty() && value.contains("{{$") && !PLACEHOLDER.matcher(value).find()) {
            problems.add("has an unterminated placeholder '{{$...'; close it with '}}'");
        }
        return problems;
    }

    /**
     * Problems with placeholders in a runtime constant (searched through lists and maps): KFP resolves run-level
     * placeholders there, and {@code {{$.inputs.parameters['x']}}} naming another input parameter of the same task,
     * which is how the SDK compiles f-strings over pipeline values.
     */
    static List<String> checkConstant(JsonNode value, Set<String> taskParameters) {
        var problems = new ArrayList<String>();
        checkConstant(value, taskParameters, problems);
        return problems;
    }

    private static void checkConstant(JsonNode value, Set<String> taskParameters, List<String> problems) {
        if (value.isContainerNode()) {
            value.forEach(v -> checkConstant(v, taskParameters, problems));
            value.fieldNames().forEachRemaining(f -> checkConstant(com.fasterxml.jackson.databind.node.TextNode.valueOf(f), taskParameters, problems));
            return;
        }
        if (!value.isTextual()) return;
        Matcher m = PLACEHOLDER.matcher(value.asText());
        while (m.find()) {
            var body = m.group(1);
            if (body.isEmpty() || PIPELINE_LEVEL.contains(body)) continue;
            var input = INPUT_PARAMETER.matcher(body);
            if (input.matches()) {
                if (!taskParameters.contains(name(input))) {
                    problems.add("placeholder '{{$" + Names.printable(body) + "}}' names parameter '" + Names.printable(name(input))
                            + "', which the task does not pass; add it under the task's inputs.parameters");
                }
            } else {
                problems.add("uses placeholder '{{$" + Names.printable(body) + "}}', which KFP does not resolve in a constant; "
                        + "use a run-level placeholder such as {{$.pipeline_job_uuid}} or {{$.inputs.parameters['x']}} for another input of the task");
            }
        }
    }

    private static void checkOne(String body, ComponentSpec component, Set<String> passedParameters, List<String> problems) {
        if (body.isEmpty() || PIPELINE_LEVEL.contains(body)) return;
        Matcher m;
        if ((m = INPUT_PARAMETER.matcher(body)).matches()) {
            if (passedParameters.contains(name(m))) return;
            requireDeclared(name(m), component.inputs().parameters().keySet(), "input parameter",
                    "inputDefinitions.parameters, nor do the tasks that run it pass it", body, problems);
        } else if ((m = INPUT_ARTIFACT.matcher(body)).matches()) {
            requireDeclared(name(m), component.inputs().artifacts().keySet(), "input artifact", "inputDefinitions.artifacts", body, problems);
        } else if ((m = OUTPUT_PARAMETER.matcher(body)).matches()) {
            requireDeclared(name(m), component.outputs().parameters().keySet(), "output parameter", "outputDefinitions.parameters", body, problems);
        } else if ((m = OUTPUT_ARTIFACT.matcher(body)).matches()) {
            requireDeclared(name(m), component.outputs().artifacts().keySet(), "output artifact", "outputDefinitions.artifacts", body, problems);
        } else {
            problems.add("uses unknown placeholder '{{$" + Names.printable(body) + "}}'; KFP defines {{$}}, "
                    + "{{$.inputs.parameters['x']}}, {{$.inputs.artifacts['x'].uri|path|metadata}}, "
                    + "{{$.outputs.parameters['x'].output_file}}, {{$.outputs.artifacts['x'].uri|path|metadata}}, "
                    + "{{$.outputs.output_file}} and run-level ones such as {{$.pipeline_job_uuid}}");
        }
    }

    private static String name(Matcher m) {
        return m.group("n") != null ? m.group("n") : m.group("nq");
    }

    private static void requireDeclared(String name, Set<String> declared, String what, String where, String body, List<String> problems) {
        if (!declared.contains(name)) {
            problems.add("placeholder '{{$" + Names.printable(body) + "}}' names " + what + " '" + Names.printable(name)
                    + "', which the component does not declare in " + where
                    + (declared.isEmpty() ? "" : " (declared: " + String.join(", ", declared.stream().sorted().toList()) + ")"));
        }
    }

    private static void checkStructured(String text, ComponentSpec component, List<String> problems) {
        JsonNode node;
        try {
            node = Json.json().readTree(text);
        } catch (JsonProcessingException e) {
            problems.add("looks like a Concat or IfPresent placeholder but is not valid JSON (" + e.getOriginalMessage() + ")");
            return;
        }
        checkStructuredNode(node, component, problems);
    }

    private static void checkStructuredNode(JsonNode node, ComponentSpec component, List<String> problems) {
        if (node.isArray()) {
            node.forEach(n -> checkStructuredNode(n, component, problems));
        } else if (node.has("IfPresent")) {
            var ifPresent = node.get("IfPresent");
            var input = ifPresent.path("InputName");
            if (!input.isTextual()) {
                problems.add("IfPresent placeholder needs 'InputName' naming an optional input");
            } else if (!component.inputs().declares(input.asText())) {
                problems.add("IfPresent placeholder names input '" + Names.printable(input.asText())
                        + "', which the component does not declare in inputDefinitions");
            }
            if (!ifPresent.has("Then")) problems.add("IfPresent placeholder needs 'Then', the arguments used when the input is present");
            checkStructuredNode(ifPresent.path("Then"), component, problems);
            checkStructuredNode(ifPresent.path("Else"), component, problems);
        } else if (node.has("Concat")) {
            if (!node.get("Concat").isArray()) problems.add("Concat placeholder needs a list of strings to join");
            checkStructuredNode(node.get("Concat"), component, problems);
        }
    }
}
