package io.capstan.cli;

/** Job resources as the server returns them, with valid defaults. */
final class Jobs {
    private Jobs() {
    }

    static String job(String namespace, String name, String phase, Integer exitCode) {
        return """
                {"apiVersion":"capstan.io/v1","kind":"Job",
                 "metadata":{"name":"%s","namespace":"%s","uid":"0f1e2d3c","labels":{"app":"demo"},
                   "creationTimestamp":"2025-01-01T00:05:00Z","generation":1,"resourceVersion":"7"},
                 "spec":{"command":["sh","-c","echo hi"],"timeoutSeconds":30},
                 "status":{"phase":"%s",%s"attempts":1,"observedGeneration":1,
                   "startTime":"2025-01-01T00:05:01Z","completionTime":"2025-01-01T00:05:04Z",
                   "conditions":[{"type":"Complete","status":"True","reason":"ExitedZero","message":"process exited",
                     "lastTransitionTime":"2025-01-01T00:05:04Z"}]}}"""
                .formatted(name, namespace, phase, exitCode == null ? "" : "\"exitCode\":" + exitCode + ",");
    }

    static String list(String... items) {
        return "{\"kind\":\"List\",\"items\":[" + String.join(",", items) + "],\"metadata\":{\"resourceVersion\":\"12\"}}";
    }
}
