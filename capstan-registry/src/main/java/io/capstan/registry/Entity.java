package io.capstan.registry;

import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * One stored entity: its columns, and its body (every field but the id and times).
 *
 * @param parentId the parent's id, 0 for none
 */
record Entity(long id, Kind kind, String namespace, String name, long parentId, String externalId, long createTime,
              long updateTime, ObjectNode body) {

    /** The entity as the API shows it. */
    ObjectNode json() {
        var out = body.deepCopy();
        out.put("id", Long.toString(id));
        out.put("createTimeSinceEpoch", Long.toString(createTime));
        out.put("lastUpdateTimeSinceEpoch", Long.toString(updateTime));
        if (!out.has("customProperties")) out.putObject("customProperties");
        if (kind == Kind.METRIC_HISTORY) out.put("artifactType", "metric");
        else if (kind.artifactType != null) out.put("artifactType", kind.artifactType);
        return out;
    }

    String text(String field) {
        var v = body.get(field);
        return v == null || v.isNull() ? null : v.asText();
    }
}
