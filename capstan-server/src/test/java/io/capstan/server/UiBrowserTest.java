package io.capstan.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.capstan.core.Json;
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
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The UI in a real browser (Debian's chromium, headless, driven offline by Selenium): log in with a token and be
 * refused without one; the quickstart's iris pipeline run with every step Succeeded and a step's log; trials of a
 * running experiment appearing without a reload; a prediction from an InferenceService's console. Screenshots go to
 * {@code target/ui-screenshots/}.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class UiBrowserTest {
    static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
    static final Path SHOTS = Path.of("target/ui-screenshots");
    static final Duration WAIT = Duration.ofSeconds(60);

    @TempDir
    static Path home;
    static TestServer server;
    static WebDriver browser;
    static JsonNode irisRun;

    @BeforeAll
    static void start() throws Exception {
        boolean present = Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER);
        // CI installs both (.ci/run), so that CI never passes by skipping.
        if (!present && "true".equals(System.getenv("CI"))) throw new AssertionError("CI needs /usr/bin/chromium and /usr/bin/chromedriver");
        assumeTrue(present, "needs Debian's chromium and chromium-driver (apt-get install chromium chromium-driver)");
        server = new TestServer(home);
        var root = Path.of("").toAbsolutePath().getParent();
        var body = Json.json().createObjectNode();
        body.put("apiVersion", "pipelines.capstan.io/v1");
        body.put("kind", "PipelineRun");
        body.putObject("metadata").put("name", "iris");
        var spec = body.putObject("spec");
        spec.put("pipelineSpec", Files.readString(root.resolve("examples/iris/iris-pipeline.yaml")));
        spec.putObject("parameters").put("source", root.resolve("examples/iris/iris.csv").toString());
        assertThat(server.send("POST", "/apis/capstan/v1/apply", body.toString(), "application/json").status()).isEqualTo(200);

        System.setProperty("webdriver.chrome.driver", CHROMEDRIVER.toString());
        var options = new ChromeOptions();
        options.setBinary(CHROMIUM.toFile());
        options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1400,1000");
        var service = new ChromeDriverService.Builder().usingDriverExecutable(CHROMEDRIVER.toFile()).build();
        browser = new ChromeDriver(service, options);
        Files.createDirectories(SHOTS);
        irisRun = server.await("/apis/capstan/v1/namespaces/default/pipelineruns/iris",
                r -> Set.of("Succeeded", "Failed").contains(r.path("status").path("phase").asText()), Duration.ofSeconds(120));
    }

    @AfterAll
    static void stop() {
        if (browser != null) browser.quit();
        if (server != null) server.close();
    }

    static String url(String path) {
        return server.server.url() + path;
    }

    static WebDriverWait waiting() {
        var wait = new WebDriverWait(browser, WAIT);
        // htmx swaps the panel and the graph under the test's feet.
        wait.ignoring(org.openqa.selenium.StaleElementReferenceException.class);
        return wait;
    }

    static void screenshot(String name) throws Exception {
        var png = ((TakesScreenshot) browser).getScreenshotAs(OutputType.BYTES);
        Files.write(SHOTS.resolve(name + ".png"), png);
    }

    @Test
    @Order(1)
    void withoutATokenThePageIsRefusedAndTheLoginFormLetsYouIn() throws Exception {
        browser.manage().deleteAllCookies();
        browser.get(url("/runs"));
        assertThat(browser.getCurrentUrl()).contains("/login?next=");
        assertThat(browser.findElements(By.cssSelector("tr[data-run]"))).isEmpty();
        browser.findElement(By.id("token")).sendKeys("not-a-token");
        browser.findElement(By.cssSelector("form.login button")).click();
        waiting().until(d -> !d.findElements(By.cssSelector("[role=alert]")).isEmpty());
        assertThat(browser.findElement(By.cssSelector("[role=alert]")).getText()).contains("unknown, expired or revoked");
        assertThat(browser.manage().getCookieNamed("capstan_session")).isNull();

        browser.findElement(By.id("token")).sendKeys(server.adminToken());
        browser.findElement(By.cssSelector("form.login button")).click();
        waiting().until(d -> d.getCurrentUrl().endsWith("/runs"));
        assertThat(browser.findElement(By.cssSelector("tr[data-run=iris] .badge")).getText()).isEqualTo("Succeeded");
        // The page's script cannot read the session cookie.
        assertThat(((JavascriptExecutor) browser).executeScript("return document.cookie")).isEqualTo("");
        screenshot("runs");
    }

    @Test
    @Order(2)
    void aTokenLinkLogsInAndDropsTheTokenFromTheAddressBar() {
        browser.manage().deleteAllCookies();
        browser.get(url("/experiments?token=" + server.adminToken()));
        assertThat(browser.getCurrentUrl()).isEqualTo(url("/experiments"));
        assertThat(browser.findElement(By.tagName("h1")).getText()).isEqualTo("Experiments");
    }

    @Test
    @Order(3)
    void theQuickstartRunShowsEveryStepSucceededAndAStepsLog() throws Exception {
        assertThat(irisRun.path("status").path("phase").asText()).isEqualTo("Succeeded");
        browser.get(url("/runs"));
        browser.findElement(By.cssSelector("tr[data-run=iris] a")).click();
        waiting().until(d -> d.getCurrentUrl().endsWith("/runs/iris"));
        // The seven steps, and the registration branch (register_as is empty here, so it does not run).
        var nodes = browser.findElements(By.cssSelector("svg.dag g.node"));
        assertThat(nodes).hasSize(8);
        assertThat(nodes).filteredOn(n -> !"condition-1".equals(n.getDomAttribute("data-task")))
                .hasSize(7).allSatisfy(n -> assertThat(n.getDomAttribute("data-state")).isEqualTo("Succeeded"));

        browser.findElement(By.cssSelector("svg.dag g.node[data-task=train-xgboost]")).click();
        waiting().until(d -> d.getCurrentUrl().endsWith("/runs/iris?node=train-xgboost"));
        waiting().until(d -> d.findElement(By.cssSelector("#panel h2")).getText().startsWith("train-xgboost"));
        waiting().until(d -> !d.findElement(By.id("log")).getText().isBlank());
        assertThat(browser.findElement(By.id("log")).getText()).isNotBlank();
        screenshot("run-iris");

        // Keyboard: a node takes focus and opens with Enter.
        var csv = browser.findElement(By.cssSelector("svg.dag g.node[data-task=csv-ingest]"));
        ((JavascriptExecutor) browser).executeScript("arguments[0].focus()", csv);
        new org.openqa.selenium.interactions.Actions(browser).sendKeys(org.openqa.selenium.Keys.ENTER).perform();
        waiting().until(d -> d.findElement(By.cssSelector("#panel h2")).getText().startsWith("csv-ingest"));
    }

    @Test
    @Order(4)
    void trialsOfARunningExperimentAppearWithoutAReload() throws Exception {
        var reply = server.apply("""
                apiVersion: kubeflow.org/v1beta1
                kind: Experiment
                metadata: {name: live}
                spec:
                  objective: {type: minimize, objectiveMetricName: loss}
                  algorithm: {algorithmName: random}
                  parallelTrialCount: 1
                  maxTrialCount: 3
                  maxFailedTrialCount: 1
                  metricsCollectorSpec: {collector: {kind: StdOut}}
                  parameters:
                    - {name: x, parameterType: double, feasibleSpace: {min: "0.1", max: "0.9"}}
                  trialTemplate:
                    primaryContainerName: main
                    trialParameters:
                      - {name: x, reference: x}
                    trialSpec:
                      apiVersion: batch/v1
                      kind: Job
                      spec:
                        template:
                          spec:
                            containers:
                              - name: main
                                image: busybox
                                command: [sh, -c, 'sleep 2; echo loss=${trialParameters.x}']
                            restartPolicy: Never
                """);
        assertThat(reply.status()).as(reply.body()).isIn(200, 201);
        browser.get(url("/experiments/default/live"));
        var js = (JavascriptExecutor) browser;
        js.executeScript("window.notReloaded = true");
        int before = browser.findElements(By.cssSelector("table.trials tbody tr")).size();
        assertThat(before).isLessThan(3);
        waiting().until(d -> d.findElements(By.cssSelector("table.trials tbody tr")).size() == 3
                && d.findElements(By.cssSelector("table.trials tbody tr .badge")).stream().allMatch(b -> b.getText().equals("Succeeded")));
        assertThat(js.executeScript("return window.notReloaded === true")).isEqualTo(true);
        assertThat(browser.findElements(By.cssSelector("svg.chart.parallel polyline.trial"))).hasSize(3);
        screenshot("experiment-live");
    }

    @Test
    @Order(5)
    void anInferenceServicePredictsFromItsConsole() throws Exception {
        var model = irisRun.path("status").path("tasks").path("root/export-onnx").path("outputs").path("artifacts").path("onnx_model").path(0);
        var uri = model.path("uri").asText();
        var storage = uri.contains("://") ? uri : Path.of(uri).toUri().toString();
        var reply = server.apply("""
                apiVersion: serving.kserve.io/v1beta1
                kind: InferenceService
                metadata: {name: iris}
                spec:
                  predictor:
                    model:
                      modelFormat: {name: onnx}
                      storageUri: %s
                """.formatted(storage));
        assertThat(reply.status()).as(reply.body()).isIn(200, 201);
        server.await("/apis/capstan/v1/namespaces/default/inferenceservices/iris",
                r -> r.path("status").path("phase").asText().equals("Ready"), Duration.ofSeconds(90));
        browser.get(url("/endpoints"));
        browser.findElement(By.linkText("iris")).click();
        waiting().until(d -> d.getCurrentUrl().endsWith("/endpoints/default/iris"));
        var body = browser.findElement(By.id("predict-body"));
        // The console fills in a request shaped from the model's metadata.
        waiting().until(d -> body.getDomProperty("value").contains("\"shape\""));
        var input = model.path("metadata").path("input_name").asText("input");
        var request = "{\"inputs\": [{\"name\": \"" + input + "\", \"shape\": [1, 4], \"datatype\": \"FP32\", \"data\": [6.7, 3.0, 5.2, 2.3]}]}";
        ((JavascriptExecutor) browser).executeScript("arguments[0].value = arguments[1]; arguments[0].dataset.edited = '1'", body, request);
        browser.findElement(By.id("predict-send")).click();
        var result = browser.findElement(By.id("predict-result"));
        waiting().until(d -> result.getText().startsWith("200"));
        assertThat(result.getText()).contains("\"outputs\"").contains("\"model_name\"");
        screenshot("endpoint-predict");
    }

    @Test
    @Order(6)
    void aRegisteredModelDeploysFromItsPageAndItsProvenanceLinksLeadEndToEnd() throws Exception {
        var uri = irisRun.path("status").path("tasks").path("root/export-onnx").path("outputs").path("artifacts").path("onnx_model").path(0).path("uri").asText();
        var storage = uri.contains("://") ? uri : Path.of(uri).toUri().toString();
        var api = "/api/model_registry/v1alpha3";
        var model = server.send("POST", api + "/registered_models", "{\"name\": \"iris-model\"}", "application/json").json().path("id").asText();
        var version = server.send("POST", api + "/model_versions", "{\"name\": \"v1\", \"registeredModelId\": \"" + model + "\"}", "application/json")
                .json().path("id").asText();
        assertThat(server.send("POST", api + "/model_versions/" + version + "/artifacts", "{\"artifactType\": \"model-artifact\", \"name\": \"iris-v1\","
                + " \"uri\": \"" + storage + "\", \"modelFormatName\": \"onnx\"}", "application/json").status()).isEqualTo(201);
        assertThat(server.send("PUT", "/apis/capstan/v1/registry/registered_models/" + model + "/aliases/champion",
                "{\"modelVersionId\": \"" + version + "\"}", "application/json").status()).isEqualTo(200);

        // Deploy from the model's page: the button posts the registry's :deploy with the CSRF header.
        browser.get(url("/models"));
        browser.findElement(By.linkText("iris-model")).click();
        waiting().until(d -> d.getCurrentUrl().endsWith("/models/default/" + model));
        browser.findElement(By.cssSelector("#aliases button.deploy")).click();
        waiting().until(d -> !d.findElements(By.cssSelector("#serving a")).isEmpty());
        server.await("/apis/capstan/v1/namespaces/default/inferenceservices/iris-model",
                r -> r.path("status").path("phase").asText().equals("Ready"), Duration.ofSeconds(90));
        var monitor = server.apply("""
                apiVersion: monitoring.capstan.io/v1alpha1
                kind: ModelMonitor
                metadata: {name: iris-model-drift}
                spec:
                  inferenceService: iris-model
                  reference: {fromRequests: 50, features: [sepal_length, sepal_width, petal_length, petal_width]}
                """);
        assertThat(monitor.status()).as(monitor.body()).isIn(200, 201);

        // The version's provenance, each link followed and come back from.
        browser.findElement(By.cssSelector("#versions a")).click();
        waiting().until(d -> d.getCurrentUrl().endsWith("/models/default/" + model + "/versions/" + version));
        var provenance = browser.getCurrentUrl();
        screenshot("model-provenance");
        browser.findElement(By.cssSelector("#prov-datasets a")).click();
        waiting().until(d -> d.getCurrentUrl().contains("/lineage?artifact="));
        assertThat(browser.findElement(By.cssSelector("dl.facts")).getText()).contains("system.Dataset");
        browser.get(provenance);
        browser.findElement(By.cssSelector("#prov-run a[href='/runs/iris']")).click();
        waiting().until(d -> d.getCurrentUrl().endsWith("/runs/iris"));
        assertThat(browser.findElements(By.cssSelector("svg.dag g.node"))).hasSize(8);
        browser.get(provenance);
        browser.findElement(By.linkText("export-onnx")).click();
        waiting().until(d -> d.getCurrentUrl().endsWith("/runs/iris?node=export-onnx"));
        browser.get(provenance);
        browser.findElement(By.cssSelector("#prov-serving a")).click();
        waiting().until(d -> d.getCurrentUrl().endsWith("/endpoints/default/iris-model"));
        assertThat(browser.findElement(By.tagName("h1")).getText()).startsWith("InferenceService iris-model");
        browser.get(provenance);
        browser.findElement(By.cssSelector("#prov-monitors a")).click();
        waiting().until(d -> d.getCurrentUrl().endsWith("/endpoints/default/iris-model#monitors"));
        assertThat(browser.findElement(By.cssSelector("tr[data-monitor=iris-model-drift]")).isDisplayed()).isTrue();
        screenshot("endpoint-monitors");
    }
}
