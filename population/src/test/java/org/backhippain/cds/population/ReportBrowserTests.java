package org.backhippain.cds.population;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.logging.Level;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.logging.LoggingPreferences;

/**
 * The report as an informaticist opens it: a file in headless Chromium, offline (it loads nothing:
 * no script, font or chart library from elsewhere), with the alert-burden chart (a bar per rule),
 * the imaging chart and the rules table; no console errors. The run is over every content case (the
 * demo's example export). A screenshot goes to target/screenshots. Without Chromium the test is
 * skipped with a reason, unless REQUIRE_BROWSER is set (CI), when a missing browser fails it.
 */
class ReportBrowserTests {
  static final String CHROMIUM = "/usr/bin/chromium";
  static final String CHROMEDRIVER = "/usr/bin/chromedriver";
  WebDriver browser;
  Path profile;

  @BeforeEach
  void startBrowser() throws Exception {
    boolean present = new File(CHROMIUM).canExecute() && new File(CHROMEDRIVER).canExecute();
    if (!present) {
      String reason =
          "SKIPPED: headless Chromium not found ("
              + CHROMIUM
              + ", "
              + CHROMEDRIVER
              + "); .ci/run installs it (apt-get install chromium chromium-driver)";
      System.out.println(reason);
      if (System.getenv("REQUIRE_BROWSER") != null) {
        throw new AssertionError("REQUIRE_BROWSER is set but " + reason);
      }
      Assumptions.abort(reason);
    }
    profile = Files.createTempDirectory("chromium-profile");
    ChromeOptions options = new ChromeOptions();
    options.setBinary(CHROMIUM);
    options.addArguments(
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--window-size=1280,2400",
        "--user-data-dir=" + profile);
    LoggingPreferences logs = new LoggingPreferences();
    logs.enable(LogType.BROWSER, Level.ALL);
    options.setCapability("goog:loggingPrefs", logs);
    browser =
        new ChromeDriver(
            new ChromeDriverService.Builder()
                .usingDriverExecutable(new File(CHROMEDRIVER))
                .usingAnyFreePort()
                .build(),
            options);
  }

  @AfterEach
  void stopBrowser() {
    if (browser != null) {
      browser.quit();
    }
  }

  @Test
  void theReportShowsItsChartsOffline() throws Exception {
    CaseExport.Written all =
        CaseExport.write(
            PopulationRunTests.TARGET.resolve("all-cases"),
            PatientEvaluator.Content.get(),
            PatientEvaluator.Content.FHIR,
            c -> true);
    PopulationJob.Result result = PopulationRunTests.run("all-cases", "all-cases-out");
    assertThat(result.tally().patients).isEqualTo(all.patients());

    browser.get(PopulationRunTests.TARGET.resolve("all-cases-out/report.html").toUri().toString());
    List<WebElement> rules = browser.findElements(By.cssSelector("[data-testid=rules] tbody tr"));
    assertThat(rules).hasSize(Report.data(result).rules().size()).hasSizeGreaterThan(10);
    WebElement burden = browser.findElement(By.cssSelector("svg[data-testid=chart-alert-burden]"));
    assertThat(burden.findElements(By.cssSelector("g.bar rect"))).hasSize(rules.size());
    assertThat(burden.getSize().getHeight()).isGreaterThan(100);
    WebElement imaging = browser.findElement(By.cssSelector("svg[data-testid=chart-imaging]"));
    assertThat(imaging.getText())
        .contains("numerator: not indicated", "excluded: red flag", "cauda-equina");
    assertThat(browser.findElement(By.cssSelector("[data-testid=imaging-rate]")).getText())
        .contains("%");
    assertThat(browser.findElement(By.cssSelector("svg[data-testid=chart-age]")).isDisplayed())
        .isTrue();
    assertThat(browser.findElement(By.cssSelector("[data-testid=snoozes]")).getText())
        .contains("not modelled");
    Object loaded =
        ((JavascriptExecutor) browser)
            .executeScript("return performance.getEntriesByType('resource').length");
    assertThat(loaded).as("resources loaded besides the page").isEqualTo(0L);
    assertThat(browser.manage().logs().get(LogType.BROWSER).getAll()).isEmpty();

    Path dir = Path.of("target", "screenshots");
    Files.createDirectories(dir);
    File shot = ((TakesScreenshot) browser).getScreenshotAs(OutputType.FILE);
    Files.copy(
        shot.toPath(), dir.resolve("population-report.png"), StandardCopyOption.REPLACE_EXISTING);
  }
}
