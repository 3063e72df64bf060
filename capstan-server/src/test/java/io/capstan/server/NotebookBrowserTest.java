package io.capstan.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.capstan.core.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * A notebook in a real browser (Debian's chromium, headless, driven by Selenium) logged in with the UI's session
 * cookie only: Jupyter's own page starts a kernel (its POST carries no X-Capstan-CSRF), connects the kernel's
 * WebSocket through Capstan, and runs {@code 1+1}.
 */
class NotebookBrowserTest {
    @TempDir
    Path home;

    @Test
    void jupytersOwnPageStartsAKernelAndRunsACellWithTheSessionCookie() throws Exception {
        boolean present = Files.isExecutable(UiBrowserTest.CHROMIUM) && Files.isExecutable(UiBrowserTest.CHROMEDRIVER);
        if (!present && "true".equals(System.getenv("CI"))) throw new AssertionError("CI needs /usr/bin/chromium and /usr/bin/chromedriver");
        assumeTrue(present, "needs Debian's chromium and chromium-driver (apt-get install chromium chromium-driver)");
        try (var server = new TestServer(home)) {
            assertThat(server.apply(NotebookServerTest.NOTEBOOK).status()).isEqualTo(200);
            NotebookServerTest.awaitPhase(server, "Running");
            var notebook = Json.json().createObjectNode();
            notebook.put("type", "notebook");
            notebook.set("content", Json.json().readTree("""
                    {"cells": [{"cell_type": "code", "execution_count": null, "metadata": {}, "outputs": [], "source": "1+1"}],
                     "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
                     "nbformat": 4, "nbformat_minor": 5}"""));
            var saved = NotebookServerTest.proxied(server, server.adminToken(), "PUT", "api/contents/sum.ipynb", notebook.toString());
            assertThat(saved.statusCode()).as(saved.body()).isIn(200, 201);

            System.setProperty("webdriver.chrome.driver", UiBrowserTest.CHROMEDRIVER.toString());
            var options = new ChromeOptions();
            options.setBinary(UiBrowserTest.CHROMIUM.toFile());
            options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1400,1000");
            WebDriver browser = new ChromeDriver(new ChromeDriverService.Builder().usingDriverExecutable(UiBrowserTest.CHROMEDRIVER.toFile()).build(), options);
            try {
                // Log in as the UI does: the token becomes the session cookie, and the address bar loses it.
                browser.get(server.server.url() + "/runs?token=" + server.adminToken());
                assertThat(browser.manage().getCookieNamed("capstan_session")).isNotNull();
                assertThat(browser.getCurrentUrl()).doesNotContain("token=");
                browser.get(server.server.url() + "/notebook/default/lab/notebooks/sum.ipynb");
                var js = (JavascriptExecutor) browser;
                var wait = new WebDriverWait(browser, Duration.ofSeconds(90));
                wait.until(d -> Boolean.TRUE.equals(js.executeScript(
                        "return !!(window.Jupyter && Jupyter.notebook && Jupyter.notebook.kernel && Jupyter.notebook.kernel.is_connected());")));
                js.executeScript("Jupyter.notebook.select(0); Jupyter.notebook.execute_cell();");
                wait.until(d -> String.valueOf(js.executeScript(
                        "var o = Jupyter.notebook.get_cell(0).output_area.outputs; return o.length ? (o[0].data || {})['text/plain'] : '';")).equals("2"));
            } finally {
                browser.quit();
            }
            var kernels = Json.json().readTree(NotebookServerTest.proxied(server, server.adminToken(), "GET", "api/kernels", null).body());
            assertThat(kernels.size()).as("the page's kernel").isEqualTo(1);
        }
    }
}
