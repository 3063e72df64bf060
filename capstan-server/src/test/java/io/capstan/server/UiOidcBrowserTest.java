package io.capstan.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.capstan.core.Json;
import io.capstan.security.OidcSettings;
import io.capstan.security.SecuritySettings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.Keys;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.interactions.Actions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * In a real browser (Debian's chromium, headless, offline): the OpenID Connect login against a real in-test provider
 * ends on the page it started from, logged in; a forged callback is refused with a message; then, as the admin, the
 * notebooks list and an artifact preview opened from the keyboard. Screenshots go to {@code target/ui-screenshots/}.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class UiOidcBrowserTest {
    @TempDir
    static Path home;
    static TestOidcProvider provider;
    static TestServer server;
    static WebDriver browser;

    @BeforeAll
    static void start() throws Exception {
        boolean present = Files.isExecutable(UiBrowserTest.CHROMIUM) && Files.isExecutable(UiBrowserTest.CHROMEDRIVER);
        if (!present && "true".equals(System.getenv("CI"))) throw new AssertionError("CI needs /usr/bin/chromium and /usr/bin/chromedriver");
        assumeTrue(present, "needs Debian's chromium and chromium-driver (apt-get install chromium chromium-driver)");
        provider = new TestOidcProvider("capstan-ui");
        server = new TestServer(TestServer.config(home), SecuritySettings.defaults().withOidc(OidcSettings.of(provider.issuer, "capstan-ui", null, null)));
        var root = Path.of("").toAbsolutePath().getParent();
        var body = Json.json().createObjectNode();
        body.put("apiVersion", "pipelines.capstan.io/v1");
        body.put("kind", "PipelineRun");
        body.putObject("metadata").put("name", "iris");
        var spec = body.putObject("spec");
        spec.put("pipelineSpec", Files.readString(root.resolve("examples/iris/iris-pipeline.yaml")));
        spec.putObject("parameters").put("source", root.resolve("examples/iris/iris.csv").toString());
        assertThat(server.send("POST", "/apis/capstan/v1/apply", body.toString(), "application/json").status()).isEqualTo(200);
        var notebook = """
                {"apiVersion": "kubeflow.org/v1", "kind": "Notebook", "metadata": {"name": "lab", "annotations": {"kubeflow-resource-stopped": "2026-01-01T00:00:00Z"}},
                 "spec": {"template": {"spec": {"containers": [{"name": "lab", "image": "jupyter/minimal-notebook"}]}}}}""";
        var applied = server.send("POST", "/apis/capstan/v1/apply", notebook, "application/json");
        assertThat(applied.status()).as(applied.body()).isEqualTo(200);

        System.setProperty("webdriver.chrome.driver", UiBrowserTest.CHROMEDRIVER.toString());
        var options = new ChromeOptions();
        options.setBinary(UiBrowserTest.CHROMIUM.toFile());
        options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1400,1000");
        browser = new ChromeDriver(new ChromeDriverService.Builder().usingDriverExecutable(UiBrowserTest.CHROMEDRIVER.toFile()).build(), options);
        Files.createDirectories(UiBrowserTest.SHOTS);
        server.await("/apis/capstan/v1/namespaces/default/pipelineruns/iris",
                r -> Set.of("Succeeded", "Failed").contains(r.path("status").path("phase").asText()), Duration.ofSeconds(180));
    }

    @AfterAll
    static void stop() {
        if (browser != null) browser.quit();
        if (server != null) server.close();
        if (provider != null) provider.close();
    }

    static String url(String path) {
        return server.server.url() + path;
    }

    static WebDriverWait waiting() {
        var wait = new WebDriverWait(browser, UiBrowserTest.WAIT);
        wait.ignoring(org.openqa.selenium.StaleElementReferenceException.class);
        return wait;
    }

    static void screenshot(String name) throws Exception {
        Files.write(UiBrowserTest.SHOTS.resolve(name + ".png"), ((TakesScreenshot) browser).getScreenshotAs(OutputType.BYTES));
    }

    @Test
    @Order(1)
    void theProvidersLoginEndsOnThePageItStartedFrom() throws Exception {
        browser.manage().deleteAllCookies();
        browser.get(url("/experiments"));
        // /experiments → /login → the provider → /oauth2/callback → back to /experiments, logged in.
        waiting().until(d -> d.getCurrentUrl().equals(url("/experiments")) && !d.findElements(By.tagName("h1")).isEmpty()
                && d.findElement(By.tagName("h1")).getText().equals("Experiments"));
        var session = browser.manage().getCookieNamed("capstan_session");
        assertThat(session).isNotNull();
        assertThat(session.isHttpOnly()).isTrue();
        assertThat(session.getSameSite()).isEqualTo("Strict");
        assertThat(((JavascriptExecutor) browser).executeScript("return document.cookie")).isEqualTo("");
        assertThat(browser.findElement(By.cssSelector("form.logout button")).getText()).isEqualTo("Log out");
        screenshot("oidc-logged-in");
    }

    @Test
    @Order(2)
    void aForgedCallbackIsRefusedWithTheReason() throws Exception {
        browser.manage().deleteAllCookies();
        browser.get(url("/oauth2/callback?code=stolen&state=forged"));
        var alert = waiting().until(d -> d.findElement(By.cssSelector("[role=alert]")));
        assertThat(alert.getText()).contains("does not match the one this browser started with");
        assertThat(browser.manage().getCookieNamed("capstan_session")).isNull();
        assertThat(browser.findElement(By.id("sso")).getText()).isEqualTo("Log in with your identity provider");
        screenshot("oidc-refused");
    }

    @Test
    @Order(3)
    void theNotebooksListIsReachableByKeyboard() throws Exception {
        browser.manage().deleteAllCookies();
        browser.get(url("/notebooks?token=" + server.adminToken()));
        waiting().until(d -> d.getCurrentUrl().equals(url("/notebooks")));
        var row = browser.findElement(By.cssSelector("tr[data-notebook='default/lab']"));
        assertThat(row.findElement(By.cssSelector("td.state .badge")).getText()).isEqualTo("Stopped");
        assertThat(row.findElement(By.cssSelector("td.activity")).getText()).isNotBlank();
        assertThat(row.findElement(By.cssSelector("[aria-disabled=true]")).getText()).isEqualTo("Connect when running");
        // The first Tab lands on the skip link, which moves focus to the main region.
        new Actions(browser).sendKeys(Keys.TAB).perform();
        assertThat(browser.switchTo().activeElement().getText()).isEqualTo("Skip to content");
        new Actions(browser).sendKeys(Keys.ENTER).perform();
        assertThat(browser.switchTo().activeElement().getAttribute("id")).isEqualTo("main");
        assertThat(browser.findElement(By.cssSelector("nav a[aria-current=page]")).getText()).isEqualTo("Notebooks");
        screenshot("notebooks");
    }

    @Test
    @Order(4)
    void anArtifactPreviewOpensFromTheKeyboard() throws Exception {
        browser.get(url("/runs/iris?node=csv-ingest"));
        var summary = waiting().until(d -> d.findElement(By.cssSelector("details.artifact-preview[data-artifact=dataset] summary")));
        ((JavascriptExecutor) browser).executeScript("arguments[0].focus()", summary);
        new Actions(browser).sendKeys(Keys.ENTER).perform();
        var table = waiting().until(d -> d.findElement(By.cssSelector("details.artifact-preview[data-artifact=dataset] table.preview")));
        assertThat(table.findElements(By.cssSelector(":scope > thead th"))).hasSize(5);
        // ":scope": a descendant selector on an element still matches ancestors outside it (the panel's own table).
        assertThat(table.findElements(By.cssSelector(":scope > tbody > tr"))).hasSize(50);
        assertThat(browser.findElement(By.cssSelector("details.artifact-preview[data-artifact=dataset] p.hint")).getText()).endsWith("rows.");
        ((JavascriptExecutor) browser).executeScript("arguments[0].scrollIntoView()", table);
        screenshot("artifact-preview");
    }
}
