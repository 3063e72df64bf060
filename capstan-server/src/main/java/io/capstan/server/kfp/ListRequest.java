package io.capstan.server.kfp;

import io.capstan.core.InvalidSpecException;
import io.capstan.core.Names;
import io.capstan.server.http.QueryParams;
import io.helidon.webserver.http.ServerRequest;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * A KFP list request: {@code page_size} (default 20, at most 1000), an opaque {@code page_token}, {@code sort_by}
 * ("created_at desc", "name") and {@code filter}. Pages are keyset pages: the token holds the sort value and id of
 * the last item returned, so an item created between two pages is neither repeated nor shifts another out.
 */
record ListRequest(int pageSize, Cursor after, String sortKey, boolean descending, KfpFilter filter) {
    static final int DEFAULT_PAGE_SIZE = 20;
    static final int MAX_PAGE_SIZE = 1000;

    ListRequest {
        Objects.requireNonNull(after, "after");
        Objects.requireNonNull(sortKey, "sortKey");
        Objects.requireNonNull(filter, "filter");
    }

    /** Where the previous page ended; {@link #START} before the first page. */
    record Cursor(String sortValue, String id) {
        static final Cursor START = new Cursor("", "");

        boolean isStart() {
            return id.isEmpty();
        }
    }

    /** One listable object: its wire form, its id, and its filterable and sortable fields by KFP key. */
    record Row<T>(T item, String id, Map<String, Object> fields) {
    }

    record Page<T>(List<T> items, int totalSize, String nextPageToken) {
    }

    /**
     * Which namespaces a list reads: the one named, or every namespace (empty), less those {@code visible} refuses
     * (the namespaces the caller may not view).
     */
    record Scope(java.util.Optional<String> namespace, java.util.function.Predicate<String> visible) {
        static Scope of(String namespace) {
            return new Scope(java.util.Optional.of(namespace), ns -> true);
        }
    }

    static ListRequest of(ServerRequest req, Set<String> keys) {
        int size = QueryParams.intParam(req, "page_size", DEFAULT_PAGE_SIZE, 0, MAX_PAGE_SIZE);
        if (size == 0) size = DEFAULT_PAGE_SIZE;
        var sort = req.query().first("sort_by").orElse("").trim();
        var parts = sort.isEmpty() ? new String[] {"created_at"} : sort.split("\\s+");
        if (parts.length > 2 || !keys.contains(parts[0]) || (parts.length == 2 && !Set.of("asc", "desc").contains(parts[1]))) {
            throw InvalidSpecException.of("sort_by", "sort_by '" + Names.printable(sort) + "' is not '<field>' or '<field> desc' with a field among "
                    + String.join(", ", keys.stream().sorted().toList()));
        }
        var filter = KfpFilter.parse(req.query().first("filter").orElse(""), keys);
        var token = req.query().first("page_token").filter(t -> !t.isBlank()).map(ListRequest::decode).orElse(Cursor.START);
        return new ListRequest(size, token, parts[0], parts.length == 2 && parts[1].equals("desc"), filter);
    }

    <T> Page<T> page(List<Row<T>> rows) {
        Comparator<Row<T>> order = Comparator.comparing((Row<T> r) -> sortValue(r)).thenComparing(Row::id);
        if (descending) order = order.reversed();
        var matching = new ArrayList<Row<T>>();
        for (var r : rows) if (filter.matches(r.fields())) matching.add(r);
        matching.sort(order);
        var remaining = matching.stream().filter(this::isAfterCursor).toList();
        var pageRows = remaining.subList(0, Math.min(pageSize, remaining.size()));
        var next = remaining.size() > pageSize ? encode(new Cursor(sortValue(pageRows.getLast()), pageRows.getLast().id())) : "";
        return new Page<>(pageRows.stream().map(Row::item).toList(), matching.size(), next);
    }

    private boolean isAfterCursor(Row<?> r) {
        if (after.isStart()) return true;
        int c = sortValue(r).compareTo(after.sortValue());
        if (c == 0) c = r.id().compareTo(after.id());
        return descending ? c < 0 : c > 0;
    }

    /** A text that sorts as the field's value does: zero-padded epoch nanoseconds for times, the text otherwise. */
    private String sortValue(Row<?> row) {
        var v = row.fields().get(sortKey);
        if (v instanceof Instant i) return "%020d%09d".formatted(i.getEpochSecond(), i.getNano());
        return v == null ? "" : String.valueOf(v);
    }

    private static String encode(Cursor c) {
        var text = c.sortValue() + "\n" + c.id();
        return Base64.getUrlEncoder().withoutPadding().encodeToString(text.getBytes(StandardCharsets.UTF_8));
    }

    private static Cursor decode(String token) {
        try {
            var text = new String(Base64.getUrlDecoder().decode(token.trim()), StandardCharsets.UTF_8);
            int cut = text.lastIndexOf('\n');
            if (cut < 0) throw new IllegalArgumentException("no separator");
            return new Cursor(text.substring(0, cut), text.substring(cut + 1));
        } catch (IllegalArgumentException e) {
            throw InvalidSpecException.of("page_token", "page_token '" + Names.printable(token)
                    + "' is not a token this server gave out; pass next_page_token from the previous page unchanged");
        }
    }
}
