package io.capstan.deploy;

import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import java.util.List;
import java.util.Optional;
import java.util.TreeSet;

/**
 * One kind of request to the Kubernetes API as RBAC sees it: API group, resource (with its subresource, such as
 * pods/log), verb, and whether it spans all namespaces (which only a ClusterRole grants).
 */
record ApiAccess(String group, String resource, String verb, boolean allNamespaces) implements Comparable<ApiAccess> {
    /** The access of an HTTP request, per Kubernetes' request-info rules; empty for non-resource paths (/version). */
    static Optional<ApiAccess> of(String method, String pathAndQuery) {
        int q = pathAndQuery.indexOf('?');
        var path = q < 0 ? pathAndQuery : pathAndQuery.substring(0, q);
        var query = q < 0 ? "" : pathAndQuery.substring(q + 1);
        var parts = List.of(path.replaceAll("^/+", "").split("/"));
        String group;
        List<String> rest;
        if (parts.size() >= 3 && parts.get(0).equals("api")) {
            group = "";
            rest = parts.subList(2, parts.size());
        } else if (parts.size() >= 4 && parts.get(0).equals("apis")) {
            group = parts.get(1);
            rest = parts.subList(3, parts.size());
        } else {
            return Optional.empty();
        }
        boolean namespaced = rest.size() >= 3 && rest.get(0).equals("namespaces");
        if (namespaced) rest = rest.subList(2, rest.size());
        var resource = rest.get(0);
        boolean named = rest.size() >= 2;
        if (rest.size() >= 3) resource += "/" + rest.get(2);
        boolean watch = List.of(query.split("&")).contains("watch=true") || List.of(query.split("&")).contains("watch=1");
        var verb = switch (method) {
            case "GET", "HEAD" -> named ? "get" : watch ? "watch" : "list";
            case "POST" -> "create";
            case "PUT" -> "update";
            case "PATCH" -> "patch";
            case "DELETE" -> named ? "delete" : "deletecollection";
            default -> throw new IllegalArgumentException("unexpected HTTP method " + method + " " + pathAndQuery);
        };
        return Optional.of(new ApiAccess(group, resource, verb, !namespaced));
    }

    /** Every access a list of rules grants, expanded; wildcards are refused, since least privilege names each. */
    static TreeSet<ApiAccess> granted(List<PolicyRule> rules, boolean allNamespaces) {
        var out = new TreeSet<ApiAccess>();
        for (var rule : rules) {
            if (rule.getNonResourceURLs() != null && !rule.getNonResourceURLs().isEmpty()) throw new AssertionError("non-resource rule: " + rule);
            if (rule.getResourceNames() != null && !rule.getResourceNames().isEmpty()) throw new AssertionError("rule limited to names: " + rule);
            for (var g : rule.getApiGroups()) {
                for (var r : rule.getResources()) {
                    for (var v : rule.getVerbs()) {
                        if (g.equals("*") || r.equals("*") || v.equals("*")) throw new AssertionError("wildcard in " + rule);
                        out.add(new ApiAccess(g, r, v, allNamespaces));
                    }
                }
            }
        }
        return out;
    }

    /** The same access within one namespace, as a Role grants it. */
    ApiAccess inOneNamespace() {
        return new ApiAccess(group, resource, verb, false);
    }

    @Override
    public int compareTo(ApiAccess o) {
        return toString().compareTo(o.toString());
    }

    @Override
    public String toString() {
        return (group.isEmpty() ? "core" : group) + " " + resource + " " + verb + (allNamespaces ? " (all namespaces)" : "");
    }
}
