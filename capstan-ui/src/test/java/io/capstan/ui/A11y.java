package io.capstan.ui;

import static org.assertj.core.api.Assertions.assertThat;

import org.jsoup.nodes.Element;

/**
 * Markup checks for accessibility on a page or fragment: every form control has a label, every chart (SVG) has a role
 * and a name, every table header cell a scope, every live region a politeness, every link a name and a target, and
 * nothing is taken out of or forced into the keyboard order (no positive tabindex, no focusable element hidden from
 * assistive technology); scrollable previews and logs are focusable so that a keyboard can scroll them.
 */
final class A11y {
    private A11y() {
    }

    static void check(Element doc, String where) {
        for (var control : doc.select("input:not([type=hidden]), select, textarea")) {
            var id = control.id();
            boolean labelled = control.hasAttr("aria-label") || control.hasAttr("aria-labelledby")
                    || (!id.isEmpty() && !doc.select("label[for=" + id + "]").isEmpty()) || control.closest("label") != null;
            assertThat(labelled).as(where + ": control without a label: " + control.outerHtml()).isTrue();
        }
        for (var svg : doc.select("svg")) {
            assertThat(svg.attr("role")).as(where + ": svg without role: " + svg.attr("class")).isIn("img", "group", "graphics-document");
            assertThat(svg.attr("aria-label")).as(where + ": svg without a name").isNotBlank();
        }
        for (var th : doc.select("th")) {
            assertThat(th.attr("scope")).as(where + ": th without scope: " + th.outerHtml()).isIn("col", "row");
        }
        for (var a : doc.select("a")) {
            assertThat(a.hasAttr("href")).as(where + ": link without href (not keyboard reachable): " + a.outerHtml()).isTrue();
            assertThat(a.text().isBlank() && a.attr("aria-label").isBlank()).as(where + ": link without a name: " + a.outerHtml()).isFalse();
        }
        for (var b : doc.select("button")) {
            assertThat(b.text().isBlank() && b.attr("aria-label").isBlank()).as(where + ": button without a name").isFalse();
        }
        for (var e : doc.select("[tabindex]")) {
            assertThat(Integer.parseInt(e.attr("tabindex"))).as(where + ": positive tabindex reorders the keyboard: " + e.tagName()).isLessThanOrEqualTo(0);
        }
        for (var e : doc.select("[aria-hidden=true]")) {
            assertThat(e.select("a[href], button, input, [tabindex=0]")).as(where + ": focusable inside aria-hidden").isEmpty();
        }
        for (var pre : doc.select("pre.log, pre.preview, div.preview-table")) {
            assertThat(pre.attr("tabindex")).as(where + ": scrollable " + pre.tagName() + " not focusable").isEqualTo("0");
        }
        for (var details : doc.select("details")) {
            assertThat(details.select("> summary")).as(where + ": details without a summary to focus").hasSize(1);
        }
        for (var live : doc.select("[sse-swap]")) {
            boolean announced = live.hasAttr("aria-live") || live.tagName().equals("pre") || live.closest("[aria-live]") != null
                    || live.id().equals("dag") || live.id().equals("trials");
            assertThat(announced).as(where + ": live region without aria-live: " + live.id()).isTrue();
        }
    }
}
