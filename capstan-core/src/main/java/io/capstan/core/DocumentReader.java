package io.capstan.core;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLParser;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads YAML or JSON, one or many documents, into trees that remember the line of every field. Jackson's own
 * tree reader drops locations, and validation errors must name lines, so this walks the token stream itself.
 */
public final class DocumentReader {
    private static final JsonNodeFactory NODES = JsonNodeFactory.withExactBigDecimals(true);
    private static final String MERGE_KEY = "<<";

    private DocumentReader() {
    }

    /**
     * Reads every document in {@code text}. JSON is detected by a leading '{' or '['; everything else is YAML.
     *
     * @throws InvalidSpecException naming the line, for syntax errors, duplicate keys, oversized or too deeply nested input
     */
    public static List<LocatedDocument> read(String source, String text) {
        if (text.length() > Json.MAX_DOCUMENT_BYTES) {
            throw new InvalidSpecException(List.of(new FieldError(source, 0, "", 0,
                    "input is " + text.length() + " characters; the limit is " + Json.MAX_DOCUMENT_BYTES + " (4 MiB)")));
        }
        var trimmed = text.stripLeading();
        boolean json = trimmed.startsWith("{") || trimmed.startsWith("[");
        var docs = new ArrayList<LocatedDocument>();
        var factory = json ? Json.json().getFactory() : Json.yaml().getFactory();
        try (JsonParser p = factory.createParser(text)) {
            JsonToken t;
            while ((t = p.nextToken()) != null) {
                var lines = new HashMap<String, Integer>();
                var node = readValue(p, t, "", lines, new Anchors());
                if (node.isNull() || node.isMissingNode()) continue;
                docs.add(new LocatedDocument(source, docs.size(), node, lines));
            }
        } catch (InvalidSpecException e) {
            int index = docs.size();
            throw new InvalidSpecException(e.errors().stream()
                    .map(err -> new FieldError(source, index, err.path(), err.line(), err.message())).toList());
        } catch (StreamConstraintsException e) {
            throw new InvalidSpecException(List.of(new FieldError(source, docs.size(), "", lineOf(e),
                    "input is too large or too deeply nested (" + firstLine(e.getOriginalMessage()) + ")")));
        } catch (JsonProcessingException e) {
            throw new InvalidSpecException(List.of(new FieldError(source, docs.size(), "", lineOf(e),
                    (json ? "malformed JSON: " : "malformed YAML: ") + firstLine(e.getOriginalMessage()))));
        } catch (IOException e) {
            throw new InvalidSpecException(List.of(new FieldError(source, docs.size(), "", 0, "unreadable input: " + e.getMessage())));
        } catch (RuntimeException e) {
            // SnakeYAML reports alias bombs, nesting and code-point limits as unchecked exceptions.
            throw new InvalidSpecException(List.of(new FieldError(source, docs.size(), "", 0,
                    "malformed or hostile YAML: " + firstLine(String.valueOf(e.getMessage())))));
        }
        return docs;
    }

    /**
     * The anchors of one YAML document ({@code &name}) and how much their aliases ({@code *name}) have expanded:
     * each alias is a copy, so nested aliases could otherwise blow a small input up exponentially.
     */
    private static final class Anchors {
        static final int MAX_EXPANDED_NODES = 100_000;
        final Map<String, JsonNode> nodes = new HashMap<>();
        int expanded;

        JsonNode resolve(String name, String path, int line) {
            var node = nodes.get(name);
            if (node == null) {
                throw new InvalidSpecException(List.of(new FieldError("", 0, path, line,
                        "alias '*" + Names.printable(name) + "' refers to no anchor defined before it (anchors on a single value are not "
                                + "supported; anchor a list or a mapping)")));
            }
            expanded += size(node);
            if (expanded > MAX_EXPANDED_NODES) {
                throw new InvalidSpecException(List.of(new FieldError("", 0, path, line,
                        "YAML aliases expand to more than " + MAX_EXPANDED_NODES + " values; the document is too large or hostile")));
            }
            return node.deepCopy();
        }

        private static int size(JsonNode node) {
            int n = 1;
            for (var child : node) n += size(child);
            return n;
        }
    }

    private static JsonNode readValue(JsonParser p, JsonToken t, String path, Map<String, Integer> lines, Anchors anchors) throws IOException {
        lines.putIfAbsent(path, p.currentTokenLocation().getLineNr());
        var yaml = p instanceof YAMLParser y ? y : null;
        if (yaml != null && t == JsonToken.VALUE_STRING && yaml.isCurrentAlias()) {
            return anchors.resolve(p.getText(), path, p.currentTokenLocation().getLineNr());
        }
        var anchor = yaml == null ? null : yaml.getCurrentAnchor();
        var node = readNode(p, t, path, lines, anchors);
        if (anchor != null) anchors.nodes.put(anchor, node);
        return node;
    }

    private static JsonNode readNode(JsonParser p, JsonToken t, String path, Map<String, Integer> lines, Anchors anchors) throws IOException {
        return switch (t) {
            case START_OBJECT -> {
                ObjectNode obj = NODES.objectNode();
                var merged = new ArrayList<JsonNode>();
                JsonToken f;
                while ((f = p.nextToken()) == JsonToken.FIELD_NAME) {
                    String name = p.currentName();
                    String childPath = path.isEmpty() ? name : path + "." + name;
                    lines.put(childPath, p.currentTokenLocation().getLineNr());
                    var value = readValue(p, p.nextToken(), childPath, lines, anchors);
                    if (name.equals(MERGE_KEY) && p instanceof YAMLParser) {
                        // YAML's merge key: the fields of the mapping (or mappings) given, unless set here.
                        if (value.isObject()) merged.add(value);
                        else if (value.isArray()) value.forEach(merged::add);
                        if (!merged.stream().allMatch(JsonNode::isObject)) {
                            throw new InvalidSpecException(List.of(new FieldError("", 0, childPath, lines.get(childPath),
                                    "the merge key '<<' takes a mapping or a list of mappings")));
                        }
                        continue;
                    }
                    if (obj.has(name)) {
                        throw new InvalidSpecException(List.of(new FieldError("", 0, childPath, lines.get(childPath),
                                "duplicate key '" + Names.printable(name) + "'; each key may appear once")));
                    }
                    obj.set(name, value);
                }
                for (var source : merged) {
                    source.properties().forEach(e -> {
                        if (!obj.has(e.getKey())) obj.set(e.getKey(), e.getValue().deepCopy());
                    });
                }
                yield obj;
            }
            case START_ARRAY -> {
                ArrayNode arr = NODES.arrayNode();
                JsonToken e;
                int i = 0;
                while ((e = p.nextToken()) != JsonToken.END_ARRAY && e != null) {
                    arr.add(readValue(p, e, path + "[" + i++ + "]", lines, anchors));
                }
                yield arr;
            }
            case VALUE_STRING -> NODES.textNode(p.getText());
            case VALUE_NUMBER_INT -> switch (p.getNumberType()) {
                case INT -> NODES.numberNode(p.getIntValue());
                case LONG -> NODES.numberNode(p.getLongValue());
                default -> NODES.numberNode(p.getBigIntegerValue());
            };
            case VALUE_NUMBER_FLOAT -> NODES.numberNode(p.getDoubleValue());
            case VALUE_TRUE -> NODES.booleanNode(true);
            case VALUE_FALSE -> NODES.booleanNode(false);
            case VALUE_NULL -> NODES.nullNode();
            // YAML's !!binary: its base64 text, as a Kubernetes Secret's data holds it (not the byte array's identity).
            case VALUE_EMBEDDED_OBJECT -> NODES.textNode(p.getEmbeddedObject() instanceof byte[] bytes
                    ? Base64.getEncoder().encodeToString(bytes) : String.valueOf(p.getEmbeddedObject()));
            default -> throw new InvalidSpecException(List.of(new FieldError("", 0, path, p.currentTokenLocation().getLineNr(), "unexpected token " + t)));
        };
    }

    private static int lineOf(JsonProcessingException e) {
        return e.getLocation() == null ? 0 : Math.max(0, e.getLocation().getLineNr());
    }

    private static String firstLine(String message) {
        if (message == null) return "no detail";
        int nl = message.indexOf('\n');
        var line = nl < 0 ? message : message.substring(0, nl);
        return line.length() > 300 ? line.substring(0, 300) + "..." : line;
    }
}
