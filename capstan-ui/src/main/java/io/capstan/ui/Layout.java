package io.capstan.ui;

import io.helidon.http.HeaderNames;
import io.helidon.webserver.http.ServerRequest;
import java.util.List;

/** The frame of every page: head, skip link, navigation and main region. */
final class Layout {
    static final String HTMX = UiSession.STATIC_PREFIX + "htmx.min.js";
    static final String HTMX_SSE = UiSession.STATIC_PREFIX + "sse.js";
    private static final List<String[]> NAV = List.of(
            new String[]{"/runs", "Runs"},
            new String[]{"/pipelines", "Pipelines"},
            new String[]{"/recurring", "Recurring runs"},
            new String[]{"/experiments", "Experiments"},
            new String[]{"/jobs", "Training jobs"},
            new String[]{"/models", "Models"},
            new String[]{"/endpoints", "Endpoints"},
            new String[]{"/notebooks", "Notebooks"},
            new String[]{"/lineage", "Lineage"});

    private Layout() {
    }

    /** A whole page: {@code section} is the navigation entry to mark current, {@code body} the main region's HTML. */
    static String page(ServerRequest req, String title, String section, String body) {
        var csrf = req.headers().first(HeaderNames.COOKIE).flatMap(UiSession::token).map(UiSession::csrfFor).orElse("");
        var sb = new StringBuilder(body.length() + 2048);
        sb.append("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">")
                .append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">")
                .append("<meta name=\"csrf-token\" content=\"").append(Html.esc(csrf)).append("\">")
                .append("<title>").append(Html.esc(title)).append(" · Capstan</title>")
                .append("<link rel=\"stylesheet\" href=\"").append(UiSession.STATIC_PREFIX).append("app.css\">")
                .append("<script src=\"").append(HTMX).append("\" defer></script>")
                .append("<script src=\"").append(HTMX_SSE).append("\" defer></script>")
                .append("<script src=\"").append(UiSession.STATIC_PREFIX).append("app.js\" defer></script>")
                .append("</head><body hx-headers='{\"").append(UiSession.CSRF_HEADER).append("\": \"").append(Html.esc(csrf)).append("\"}'>")
                .append("<a class=\"skip\" href=\"#main\">Skip to content</a>")
                .append("<header class=\"top\"><a class=\"brand\" href=\"/runs\">Capstan</a><nav aria-label=\"Main\"><ul>");
        for (var item : NAV) {
            boolean current = item[0].equals(section);
            sb.append("<li><a href=\"").append(item[0]).append('"').append(current ? " aria-current=\"page\"" : "").append('>')
                    .append(item[1]).append("</a></li>");
        }
        sb.append("</ul></nav>");
        if (!csrf.isEmpty()) {
            sb.append("<form class=\"logout\" method=\"post\" action=\"").append(UiSession.LOGOUT_PATH)
                    .append("\" hx-post=\"").append(UiSession.LOGOUT_PATH).append("\"><button type=\"submit\">Log out</button></form>");
        }
        sb.append("</header><main id=\"main\" tabindex=\"-1\">").append(body).append("</main></body></html>");
        return sb.toString();
    }

    /** An explicit empty state: what is missing and how to make some. */
    static String empty(String what, String hint) {
        return "<div class=\"empty\" role=\"status\"><p><strong>" + Html.esc(what) + "</strong></p><p>" + hint + "</p></div>";
    }
}
